"""The ensemble's settings for one encoder, chosen by cross-validation on the seed examples only: the SVM's C and the
weight of the lexical member, scored by leaving out a whole style, a whole group of businesses, a whole language,
and every language but English. The evaluation sets play no part.

    .venv/bin/python bench/ensemble_weights.py [--encoder NAME] [--c 1,2,4] [--weights 0.5,0.75,1.0]

The product's code fits each fold (intelligence.classifier.Members), exactly as bench/encoder_selection.py does.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")

from encoder_selection import metrics, read  # noqa: E402 (bench/ is on the path when run as a script)
from intent_model_selection import business_group  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default="universal-sentence-encoder-multilingual-3")
    parser.add_argument("--c", default="1,2,4")
    parser.add_argument("--weights", default="0.5,0.75,1.0")
    args = parser.parse_args()

    import django

    django.setup()
    from sklearn.model_selection import StratifiedKFold

    from intelligence import classifier
    from intelligence.encoders import load_encoder

    seed = read(ROOT / "intelligence/data/intent_examples.csv")
    texts = [r["text"] for r in seed]
    labels = np.array([classifier.INTENTS.index(r["intent"]) for r in seed])
    languages = np.array([r["language"] for r in seed])
    english = languages == "en"
    folds = {
        "style": np.array([r["style"] for r in seed]),
        "business": np.array([business_group(r["business"]) for r in seed]),
        "language": languages,
        "english_only": np.where(english, "en", "other"),
    }
    vectors = load_encoder(args.encoder, "onnx").encode(texts)
    print(f"{args.encoder}: {len(texts)} seed examples ({int(english.sum())} English)")
    print("| C | lexical weight | LSO English | LBO English | LSO other | leave-language-out | English only -> other |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for c in [float(x) for x in args.c.split(",")]:
        classifier.ESTIMATOR_PARAMS["svm"]["C"] = c
        for weight in [float(x) for x in args.weights.split(",")]:

            def scores(train: np.ndarray, test: np.ndarray, weight: float = weight) -> np.ndarray:
                members = classifier.Members.fit("ensemble", [texts[i] for i in train], vectors[train], labels[train])
                parts = members.member_logits([texts[i] for i in test], vectors[test])
                return parts["embedding"] + weight * parts["lexical"]

            def calibrated(train: np.ndarray, test: np.ndarray) -> np.ndarray:
                inner = np.zeros((len(train), len(classifier.INTENTS)))
                for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(train, labels[train]):
                    inner[b] = scores(train[a], train[b])
                temperature = classifier.fit_temperature(inner, labels[train])
                return classifier.softmax(scores(train, test) / temperature)

            results = {}
            for name, fold_of in folds.items():
                probabilities = np.zeros((len(labels), len(classifier.INTENTS)))
                for fold in np.unique(fold_of):
                    test, train = np.where(fold_of == fold)[0], np.where(fold_of != fold)[0]
                    probabilities[test] = calibrated(train, test)
                results[name] = probabilities
            cells = [
                metrics(labels[english], results["style"][english], 3),
                metrics(labels[english], results["business"][english], 3),
                metrics(labels[~english], results["style"][~english], 3),
                metrics(labels[~english], results["language"][~english], 3),
                metrics(labels[~english], results["english_only"][~english], 3),
            ]
            shown = " | ".join(f"{m['f1']:.3f} ({m['wrong85']} wrong@0.85)" for m in cells)
            print(f"| {c:g} | {weight:g} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
