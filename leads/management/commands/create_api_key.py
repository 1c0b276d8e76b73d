from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bizpilot.errors import ValidationFailed
from leads.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an integration and print it (only the key, once: it is stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses the key, e.g. 'website-form'")

    def handle(self, *args, name: str, **options):
        try:
            _, key = api_key_create(name=name)
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(key)
