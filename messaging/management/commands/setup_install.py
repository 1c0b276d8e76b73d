from __future__ import annotations

from django.core.management.base import BaseCommand

from messaging.install import install_ensure


class Command(BaseCommand):
    help = (
        "Prepare a new install for a real business (no demo): the shared intent examples, an admin and an operator "
        "login, an API key. Idempotent: a second run changes nothing and prints the same credentials."
    )

    def handle(self, *args, **options):
        install_ensure(write=self.stdout.write)
