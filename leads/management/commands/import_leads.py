"""python manage.py import_leads FILE.csv [--dry-run] [--source NAME] [--map col=field ...] [--process]"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from leads.importer import IMPORT_FIELDS, CsvImportError, import_csv
from leads.imports import leads_import_batch


class Command(BaseCommand):
    help = (
        "Import leads from a CSV file (UTF-8, UTF-8 with BOM or Latin-1; comma, semicolon or tab). Every row is "
        "validated; valid rows are written in batches, the others are listed with their line numbers in "
        "FILE.errors.csv. Importing the same rows again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and report; write nothing")
        parser.add_argument("--source", default="csv", help="The leads' source label (default: csv)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"Read FIELD from COLUMN (fields: {', '.join(IMPORT_FIELDS)}); repeatable. Columns not mapped "
            "are matched by common names (Email, E-mail address, Mobile, ...); the rest is kept as metadata.",
        )
        parser.add_argument("--process", action="store_true", help="Classify the new leads and draft replies")
        parser.add_argument("--errors", type=Path, help="Where to write the error report (default: FILE.errors.csv)")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(
        self,
        *args,
        file: Path,
        dry_run: bool,
        source: str,
        map: list[str],
        process: bool,
        errors: Path | None,
        batch_size: int,
        **options,
    ):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        overrides = {}
        for item in map:
            column, sep, field = item.partition("=")
            if not sep or not column.strip() or not field.strip():
                raise CommandError(f"--map takes COLUMN=FIELD, not {item!r}")
            overrides[column.strip()] = field.strip()
        errors_path = errors or file.with_name(file.name + ".errors.csv")
        progress = _progress_bar(file.stat().st_size)
        write = None
        if not dry_run:
            actor = f"import:{file.name}"

            def write(rows):
                return leads_import_batch(rows=rows, source=source, actor=actor, process=process)

        try:
            with open(errors_path, "w", encoding="utf-8", newline="") as report_file:
                report = import_csv(
                    file,
                    write_batch=write,
                    column_overrides=overrides,
                    batch_size=batch_size,
                    errors_out=report_file,
                    on_bytes=progress.update if progress else None,
                )
        except CsvImportError as exc:
            errors_path.unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        finally:
            if progress:
                progress.close()
        if not report.invalid:
            errors_path.unlink(missing_ok=True)
        mapped = ", ".join(f"{col} -> {field}" for col, field in report.columns.items())
        self.stdout.write(f"{file.name}: {report.encoding}, delimiter {report.delimiter!r}; columns: {mapped}")
        for line in report.first_errors[:10]:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(report.summary(dry_run=dry_run)))
        if report.invalid:
            self.stdout.write(f"Error report (line, field, error): {errors_path}")


def _progress_bar(total: int):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc="Importing", file=sys.stderr, disable=None)
