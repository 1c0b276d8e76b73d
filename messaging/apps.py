from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from leads.signals import lead_received

        lead_received.connect(_on_lead_received, dispatch_uid="messaging.process_lead")


def _on_lead_received(sender, *, lead_id: int, **kwargs) -> None:
    from messaging.tasks import enqueue_process_lead

    enqueue_process_lead(lead_id)
