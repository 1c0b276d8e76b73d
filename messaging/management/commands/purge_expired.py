from __future__ import annotations

from django.core.management.base import BaseCommand

from messaging.retention import expired_data_purge


class Command(BaseCommand):
    help = "Drop raw inbound payloads and model-call prompts and responses older than RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Keep this many days instead of RETENTION_DAYS")

    def handle(self, *args, days: int | None = None, **options):
        purged = expired_data_purge(days=days)
        for kind, count in purged.items():
            self.stdout.write(f"{kind}: {count} purged")
