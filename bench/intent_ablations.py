"""Held-out evaluation of the intent classifier across methods, k and knowledge context, as a Markdown table.

    .venv/bin/python manage.py seed_demo          # the labelled examples must be loaded
    .venv/bin/python bench/intent_ablations.py    # reads only; prints the table for docs/intent-evaluation.md

Each cell is `manage.py evaluate_intent` on intelligence/eval/heldout.csv with those options.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")


def main() -> None:
    import django

    django.setup()
    from intelligence.evaluation import evaluate, read_labelled_csv

    rows = read_labelled_csv(ROOT / "intelligence/eval/heldout.csv")
    print("| method | k | knowledge context | accuracy | macro-F1 | ECE | p50 ms | p95 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    runs = [(m, k, True) for m in ["svm", "logreg", "knn"] for k in [1, 3, 5, 7, 10]]
    runs += [(m, 7, False) for m in ["svm", "logreg", "knn"]]
    for method, k, context in runs:
        report = evaluate(rows, k=k, with_knowledge=context, method=method)
        print(
            f"| {method} | {k} | {'on' if context else 'off'} | {report['accuracy']:.3f} | {report['macro_f1']:.3f} "
            f"| {report['ece']:.3f} | {report['p50_ms']:.1f} | {report['p95_ms']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
