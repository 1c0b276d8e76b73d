from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intelligence.evaluation import EvaluationInputError, evaluate, read_labelled_csv


class Command(BaseCommand):
    help = (
        "Classify every row of a labelled CSV (columns message,intent) and report accuracy, macro-F1, per-class "
        "precision/recall/F1, the confusion matrix, expected calibration error and latency. Writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True, help="CSV with the columns message,intent")
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")
        parser.add_argument("--k", type=int, default=None, help=f"neighbours (default {settings.CLASSIFIER_K})")
        parser.add_argument("--no-context", action="store_true", help="skip knowledge retrieval")
        parser.add_argument(
            "--threshold",
            type=float,
            default=0.85,
            help="auto-send threshold for the confidently-wrong share (default 0.85)",
        )
        parser.add_argument(
            "--method",
            choices=["ensemble", "svm", "logreg", "knn"],
            default=None,
            help=f"classifier (default {settings.CLASSIFIER_METHOD})",
        )

    def handle(self, *args, **options):
        if options["k"] is not None and options["k"] < 1:
            raise CommandError("--k must be at least 1")
        try:
            rows = read_labelled_csv(Path(options["csv"]))
        except EvaluationInputError as exc:
            raise CommandError(str(exc)) from exc
        k = options["k"] or settings.CLASSIFIER_K
        if not 0 <= options["threshold"] <= 1:
            raise CommandError("--threshold must be from 0 to 1")
        report = evaluate(
            rows,
            k=k,
            with_knowledge=not options["no_context"],
            method=options["method"],
            threshold=options["threshold"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        context = "on" if report["knowledge_context"] else "off"
        self.stdout.write(f"{report['n']} rows, {report['method']}, knowledge context {context}")
        self.stdout.write(
            f"accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}  ECE {report['ece']:.3f}  "
            f"p50 {report['p50_ms']:.1f} ms  p95 {report['p95_ms']:.1f} ms"
        )
        self.stdout.write(
            f"wrong with confidence >= {report['threshold']:.2f}: {report['confidently_wrong_n']} of {report['n']} "
            f"({report['confidently_wrong']:.1%}); unfamiliar {report['unfamiliar_share']:.0%}; "
            f"not a prospect {report['not_a_prospect']}; languages {report['languages']}"
        )
        for intent, values in report["per_class"].items():
            self.stdout.write(
                f"  {intent:<5} precision {values['precision']:.3f}  recall {values['recall']:.3f}  "
                f"f1 {values['f1']:.3f}  (n={values['support']})"
            )
        for code, values in report["by_language"].items():
            self.stdout.write(
                f"  [{code}] macro-F1 {values['macro_f1']:.3f}  accuracy {values['accuracy']:.3f}  "
                f"wrong with confidence >= {report['threshold']:.2f}: {values['confidently_wrong_n']} (n={values['n']})"
            )
