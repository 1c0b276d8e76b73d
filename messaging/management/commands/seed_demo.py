from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from intelligence.knowledge import knowledge_load_path
from meetings.availability import demo_availability_ensure
from messaging.install import ADMIN_USERNAME, OPERATOR_USERNAME, install_ensure
from messaging.signals import demo_seeded

DATA = settings.BASE_DIR / "intelligence" / "data"


class Command(BaseCommand):
    help = (
        "Load the demo business (Northwind Web Studio: its knowledge base, meeting hours and alert recipients) on "
        "top of what every install gets (setup_install: the shared intent examples, an admin and an operator "
        "login, an API key). Idempotent: a second run changes nothing and prints the same credentials."
    )

    def handle(self, *args, **options):
        knowledge = knowledge_load_path(path=DATA / "demo_knowledge")
        demo_availability_ensure()
        self.stdout.write(
            f"Demo data: knowledge {knowledge.loaded} document(s) loaded, {knowledge.unchanged} unchanged."
        )
        install_ensure(write=self.stdout.write)
        demo_seeded.send(sender=Command, admin=ADMIN_USERNAME, operator=OPERATOR_USERNAME)
