from __future__ import annotations

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from leads.signals import lead_received, lead_wrote_again

        lead_received.connect(_on_lead_received, dispatch_uid="messaging.process_lead")
        lead_wrote_again.connect(_on_lead_wrote_again, dispatch_uid="messaging.lead_wrote_again")

        from anymail.signals import tracking

        tracking.connect(_on_email_tracking, dispatch_uid="messaging.email_tracking")


def _on_lead_received(sender, *, lead_id: int, **kwargs) -> None:
    from messaging.tasks import enqueue_process_lead

    enqueue_process_lead(lead_id)


def _on_lead_wrote_again(sender, *, lead_id: int, inbound_id: int, **kwargs) -> None:
    from messaging.services import lead_wrote_again_hold_auto_sends

    lead_wrote_again_hold_auto_sends(lead_id=lead_id, inbound_id=inbound_id)


def _on_email_tracking(sender, *, event, esp_name: str, **kwargs) -> None:
    from messaging.services import email_event_receive

    email_event_receive(event=event, esp_name=esp_name)
