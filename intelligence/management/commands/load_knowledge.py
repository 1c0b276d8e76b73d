from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from intelligence.knowledge import knowledge_load_path


class Command(BaseCommand):
    help = (
        "Load Markdown, text and FAQ CSV (question,answer) files, or a folder of them, into the knowledge base. "
        "Idempotent: unchanged documents and chunks are not re-embedded; chunks and (for a folder) documents that "
        "were removed are deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--kind", help="the documents' kind (default: faq for .csv, doc otherwise)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, path: str, kind: str | None, no_progress: bool, **options):
        target = Path(path)
        if not target.exists():
            raise CommandError(f"{path}: no such file or folder")

        def progress(files):
            return tqdm(files, desc="Loading knowledge", unit="file", disable=no_progress or len(files) < 2)

        report = knowledge_load_path(path=target, kind=kind, progress=progress)
        self.stdout.write(
            f"{report.loaded} document(s) loaded, {report.unchanged} unchanged, {report.deleted} removed; "
            f"{report.chunks_embedded} chunk(s) embedded, {report.chunks_reused} reused"
        )
        if report.errors:
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(f"{len(report.errors)} file(s) could not be loaded (see above); the others were loaded")
