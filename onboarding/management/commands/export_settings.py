from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from onboarding.settings_transfer import settings_export


class Command(BaseCommand):
    help = "Write the business's settings (profile, policies, templates, sequences, knowledge; no secrets) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="Where to write it (default: standard output)")

    def handle(self, *args, file: str | None = None, **options):
        text = json.dumps(settings_export(), indent=1, ensure_ascii=False)
        if file:
            with open(file, "w", encoding="utf-8") as out:
                out.write(text + "\n")
            self.stdout.write(f"Settings written to {file}")
        else:
            self.stdout.write(text)
