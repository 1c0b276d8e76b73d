from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intelligence.services import knowledge_load_path


class Command(BaseCommand):
    help = "Load Markdown, text and FAQ CSV (question,answer) files, or a folder of them, into the knowledge base."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        target = Path(path)
        if not target.exists():
            raise CommandError(f"{path}: no such file or folder")
        try:
            stats = knowledge_load_path(path=target)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(
            f"{stats['documents']} document(s) loaded ({stats['chunks']} chunks), {stats['unchanged']} unchanged"
        )
