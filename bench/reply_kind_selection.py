"""How the reply-kind reader was chosen: cross-validation on the labelled replies that leaves a whole style of
writing (one-word answers, emails, long emails with quoted history, SMS, WhatsApp, non-native English, other
languages), a whole language, or a group of businesses out of training.

    .venv/bin/python bench/reply_kind_selection.py

Auto-replies are read by rules (leads/autoreply.py), which learn nothing, so they are scored on every row: with the
subject, and from the text alone (texts have no subject). For the other kinds, each candidate model is trained on
the folds it may see, its temperature fitted inside them as the product does, and scored on the style it never saw.
Prints macro-F1, accuracy, expected calibration error and the share of rows wrong with confidence >= 0.85.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("DATABASE_URL", "postgresql://bench@localhost/unused")  # reads no database

TRADES = {"plumber", "electrician", "builder", "roofing", "landscaping", "pest_control", "car_repair", "cleaning"}
HEALTH = {"dental_clinic", "physio", "salon", "fitness", "personal_training", "yoga_studio", "dog_groomer"}
PROFESSIONAL = {"accountant", "lawyer", "it_support", "saas", "web_agency", "translation", "printing", "architect"}


def business_group(business: str) -> str:
    if business in TRADES:
        return "trades"
    if business in HEALTH:
        return "health_beauty"
    return "professional" if business in PROFESSIONAL else "events_homes_learning"


def metrics(labels: list[str], predicted: list[str], confidence: list[float]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from intelligence.evaluation import expected_calibration_error

    correct = [a == b for a, b in zip(labels, predicted, strict=True)]
    wrong_confident = sum(1 for ok, c in zip(correct, confidence, strict=True) if not ok and c >= 0.85)
    return {
        "macro_f1": round(float(f1_score(labels, predicted, average="macro", zero_division=0)), 3),
        "accuracy": round(float(accuracy_score(labels, predicted)), 3),
        "ece": round(expected_calibration_error(confidence, correct), 3),
        "wrong_at_0.85": round(wrong_confident / len(labels), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedding", action="store_true", help="also try the MiniLM embedding as features")
    parser.add_argument("--public-only", action="store_true", help="only score the public replies set")
    args = parser.parse_args()
    import django

    django.setup()
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from intelligence.classifier import fit_temperature, softmax
    from intelligence.replies import MODEL_KINDS, ReplyFeatures, ReplyModel, load_replies, reply_text
    from intelligence.reply_cues import cue_values
    from leads.autoreply import auto_reply_check

    if args.public_only:
        public_replies()
        return
    rows = load_replies()
    print(f"{len(rows)} labelled replies, {len({r.business for r in rows})} kinds of business")
    print("kinds:", dict(Counter(r.kind for r in rows)))
    print("styles:", dict(Counter(r.style for r in rows)), "\n")

    # 1. Auto-replies: the rules, on every row.
    for with_subject in (True, False):
        hits = [auto_reply_check(subject=r.subject if with_subject else "", body=r.text) is not None for r in rows]
        auto = [r.kind == "auto_reply" for r in rows]
        recall = sum(h and a for h, a in zip(hits, auto, strict=True)) / sum(auto)
        false = sum(h and not a for h, a in zip(hits, auto, strict=True))
        print(
            f"auto-reply rules ({'subject and text' if with_subject else 'text only'}): "
            f"recall {recall:.3f} ({sum(auto)} auto-replies), {false} of {len(rows) - sum(auto)} human replies taken "
            "for one"
        )

    people = [r for r in rows if r.kind in MODEL_KINDS]
    texts = [f"{r.subject}\n{r.text}".strip() for r in people]
    labels = [r.kind for r in people]
    vectors = None
    if args.embedding:
        from intelligence.embeddings import get_embedder

        vectors = np.array(get_embedder().embed([reply_text(t) for t in texts]))

    def candidate(name: str):
        def fit_predict(train: list[int], test: list[int]) -> tuple[list[str], list[float]]:
            if name == "product":
                model = ReplyModel.fit([texts[i] for i in train], [labels[i] for i in train])
                p = model.probabilities([texts[i] for i in test])
                return [model.kinds[int(j)] for j in p.argmax(1)], [float(x) for x in p.max(1)]
            kinds = sorted({labels[i] for i in train})
            y = np.array([kinds.index(labels[i]) for i in train])
            cleaned = [reply_text(t) for t in texts]

            def featurize(features, idx):
                if name == "cues only":
                    return sparse.csr_matrix(np.array([cue_values(cleaned[i]) for i in idx]))
                extra = vectors[idx] if vectors is not None and name == "lexical + cues + embedding" else None
                return features.transform([cleaned[i] for i in idx], extra)

            features = ReplyFeatures(0.0 if name == "lexical only" else 1.0).fit([cleaned[i] for i in train])
            model = LogisticRegression(C=10.0, max_iter=2000).fit(featurize(features, train), y)
            train_logits = model.decision_function(featurize(features, train))
            temperature = fit_temperature(train_logits, y)  # optimistic; the product fits on held-out folds
            p = softmax(model.decision_function(featurize(features, test)) / temperature)
            return [kinds[int(j)] for j in p.argmax(1)], [float(x) for x in p.max(1)]

        return fit_predict

    names = ["cues only", "lexical only", "product"]
    if args.embedding:
        names.append("lexical + cues + embedding")
    splits = {
        "leave-style-out": [r.style for r in people],
        "leave-language-out (non-English)": [r.language if r.language != "en" else "" for r in people],
        "leave-business-group-out": [business_group(r.business) for r in people],
    }
    for split, groups in splits.items():
        print(f"\n{split}:")
        for name in names:
            fit_predict = candidate(name)
            predicted: list[str] = [""] * len(people)
            confidence: list[float] = [0.0] * len(people)
            for group in sorted(set(groups) - {""}):
                test = [i for i, g in enumerate(groups) if g == group]
                train = [i for i, g in enumerate(groups) if g != group]
                got, conf = fit_predict(train, test)
                for i, p, c in zip(test, got, conf, strict=True):
                    predicted[i], confidence[i] = p, c
            scored = [i for i, g in enumerate(groups) if g]
            m = metrics([labels[i] for i in scored], [predicted[i] for i in scored], [confidence[i] for i in scored])
            print(f"  {name:32s} " + "  ".join(f"{k} {v}" for k, v in m.items()) + f"  (n={len(scored)})")
            if name == "product" and split == "leave-style-out":
                per_style = {}
                for style in sorted(set(groups)):
                    idx = [i for i, g in enumerate(groups) if g == style]
                    per_style[style] = metrics(
                        [labels[i] for i in idx], [predicted[i] for i in idx], [confidence[i] for i in idx]
                    )["macro_f1"]
                print("    per style left out (macro-F1):", per_style)
                wrong = [i for i in scored if predicted[i] != labels[i]]
                for i in wrong[:40]:
                    print(f"    {labels[i]:>22s} -> {predicted[i]:<22s} {confidence[i]:.2f} {texts[i][:70]!r}")

    public_replies()


# Our kinds in the public set's coarser taxonomy (interested, not interested, unsubscribe, out of office).
COARSE = {
    "auto_reply": "out_of_office",
    "stop": "unsubscribe",
    "no": "not_interested",
    "wrong_person": "not_interested",
}


def public_replies() -> None:
    """Replies written by others (intelligence/eval/public_replies.csv: a public sales-automation repository's
    labelled examples, labelled by its authors in their own four classes), read by the product's reader trained
    on all our labelled replies: agreement on their classes, and with "not interested" and "unsubscribe" as one
    (both mean: do not pursue)."""
    import csv

    from intelligence.replies import reply_read

    with (ROOT / "intelligence" / "eval" / "public_replies.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    agree = negative = confident_wrong = 0
    print(f"\npublic replies written by others: {len(rows)} rows")
    for row in rows:
        reading = reply_read(text=row["text"])
        got = COARSE.get(reading.kind, "interested")
        want = row["kind_coarse"]
        agree += got == want
        merged = {"unsubscribe": "negative", "not_interested": "negative"}
        negative += merged.get(got, got) == merged.get(want, want)
        if merged.get(got, got) != merged.get(want, want):
            confident_wrong += reading.confidence >= 0.85
            print(f"  {want:>15s} -> {reading.kind:<22s} {reading.confidence:.2f} {row['text'][:70]!r}")
    print(
        f"  agreement on their four classes {agree / len(rows):.3f}; with not interested and unsubscribe as one "
        f"{negative / len(rows):.3f}; wrong at confidence >= 0.85: {confident_wrong / len(rows):.3f}"
    )


if __name__ == "__main__":
    main()
