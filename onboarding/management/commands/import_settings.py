from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from bizpilot.errors import ValidationFailed
from onboarding.settings_transfer import settings_import


class Command(BaseCommand):
    help = "Apply a settings file written by export_settings: all of it, or (with any problem) none of it."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file: str, **options):
        try:
            with open(file, encoding="utf-8") as source:
                data = json.load(source)
        except (OSError, ValueError) as exc:
            raise CommandError(f"{file}: not a readable JSON file ({exc})") from exc
        try:
            counts = settings_import(data=data, actor="command:import_settings")
        except ValidationFailed as exc:
            problems = "; ".join(f"{field}: {' '.join(p)}" for field, p in exc.fields.items())
            raise CommandError(f"Nothing was changed. {exc.message} {problems}") from exc
        self.stdout.write("Imported: " + ", ".join(f"{count} {name}" for name, count in counts.items()))
