from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intelligence.evaluation import EvaluationInputError, evaluate_facts, read_fact_csv


class Command(BaseCommand):
    help = (
        "For every row of a labelled CSV (columns message,answer: the heading or document title of the knowledge "
        "chunk that answers the message, alternatives separated by |), choose the knowledge a reply would quote and "
        "report the top-1 accuracy, against the nearest whole chunk. Writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv", required=True, help="CSV with the columns message,answer (and language, to report per language)"
        )
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")

    def handle(self, *args, **options):
        try:
            report = evaluate_facts(read_fact_csv(Path(options["csv"])))
        except EvaluationInputError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(
            f"{report['n']} rows, {report['candidates']} candidates each: top-1 accuracy {report['top1_accuracy']:.3f} "
            f"(nearest whole chunk {report['top1_nearest_chunk']:.3f})"
        )
        if report["top1_by_language"]:
            shown = ", ".join(f"{code} {value:.2f}" for code, value in report["top1_by_language"].items())
            self.stdout.write(f"  per language: {shown}")
        for error in report["errors"]:
            wanted = " or ".join(error["answer"])
            self.stdout.write(f"  line {error['line']}: {error['message']!r} -> {error['chosen']!r}, want {wanted}")
