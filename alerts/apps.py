from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"
    # Each person edits their own alert settings (the admin shows an operator their own row only).
    operator_permissions = [
        "alerts.view_alert",
        "alerts.view_alertrecipient",
        "alerts.change_alertrecipient",
        "alerts.view_teamwebhook",
    ]

    def ready(self) -> None:
        from anymail.signals import tracking

        from messaging.signals import demo_seeded, lead_opened, turn_drafted

        turn_drafted.connect(_on_turn_drafted, dispatch_uid="alerts.turn_drafted")
        lead_opened.connect(_on_lead_opened, dispatch_uid="alerts.lead_opened")
        tracking.connect(_on_email_tracking, dispatch_uid="alerts.email_tracking")
        demo_seeded.connect(_on_demo_seeded, dispatch_uid="alerts.demo_seeded")

        from leads.signals import lead_merging

        lead_merging.connect(_on_lead_merging, dispatch_uid="alerts.lead_merging")

        from django.db.models.signals import post_delete, post_save

        from alerts.models import AlertRecipient, TeamWebhook

        for model in (AlertRecipient, TeamWebhook):
            post_save.connect(_on_recipients_changed, sender=model, dispatch_uid=f"alerts.saved.{model.__name__}")
            post_delete.connect(_on_recipients_changed, sender=model, dispatch_uid=f"alerts.deleted.{model.__name__}")


def _on_recipients_changed(sender: Any, **kwargs: Any) -> None:
    from alerts.raising import recipients_changed

    recipients_changed()


def _on_lead_merging(sender: Any, *, keep_id: int, merge_id: int, **kwargs: Any) -> dict[str, int]:
    from alerts.models import LeadView
    from bizpilot.relations import references_move
    from leads.models import Lead

    # A person who saw both leads keeps the first sight of the one kept.
    seen = list(LeadView.objects.filter(lead_id=keep_id).values_list("viewer", flat=True))
    LeadView.objects.filter(lead_id=merge_id, viewer__in=seen).delete()
    return references_move(model=Lead, source_id=merge_id, target_id=keep_id, app_label="alerts")


def _on_demo_seeded(sender: Any, *, admin: str, operator: str, **kwargs: Any) -> None:
    from alerts.people import demo_people_ensure

    demo_people_ensure(admin=admin, operator=operator)


def _on_turn_drafted(
    sender: Any, *, lead_id: int, inbound_id: int, message_id: int, intent: str, kind: str, **kwargs: Any
) -> None:
    from alerts.raising import alert_kind, anyone_to_tell
    from bizpilot import jobs

    if alert_kind(kind=kind, intent=intent) and anyone_to_tell():
        jobs.enqueue_on_commit(
            "alerts.tasks.raise_alerts",
            lead_id,
            inbound_id,
            message_id,
            intent,
            kind,
            task_name=f"raise_alerts-{inbound_id}",
        )


def _on_lead_opened(sender: Any, *, lead_id: int, actor: str, at: Any, **kwargs: Any) -> None:
    from alerts.acknowledgement import lead_open_record

    lead_open_record(lead_id=lead_id, actor=actor, at=at)


def _on_email_tracking(sender: Any, *, event: Any, esp_name: str, **kwargs: Any) -> None:
    from django.utils import timezone

    from alerts.delivery import alert_delivery_event

    alert_id = (event.metadata or {}).get("bizpilot_alert_id")
    if alert_id:
        alert_delivery_event(
            alert_id=str(alert_id),
            event_type=str(event.event_type),
            at=event.timestamp or timezone.now(),
            detail=str(event.reject_reason or event.description or ""),
        )
