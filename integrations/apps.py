from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outbound webhooks: every app's signals become signed events for the business's other systems."""

    name = "integrations"
    verbose_name = "Integrations out"
    operator_permissions = ["integrations.view_webhooksubscription", "integrations.view_webhookdelivery"]

    def ready(self) -> None:
        from leads.signals import lead_erasing, lead_received, lead_state_changed, lead_wrote_again
        from meetings.signals import meeting_changed
        from messaging.signals import lead_classified, message_event, turn_drafted

        lead_received.connect(_on_lead_received, dispatch_uid="integrations.lead_received")
        lead_classified.connect(_on_lead_classified, dispatch_uid="integrations.lead_classified")
        turn_drafted.connect(_on_turn_drafted, dispatch_uid="integrations.turn_drafted")
        message_event.connect(_on_message_event, dispatch_uid="integrations.message_event")
        lead_wrote_again.connect(_on_lead_wrote_again, dispatch_uid="integrations.lead_wrote_again")
        meeting_changed.connect(_on_meeting_changed, dispatch_uid="integrations.meeting_changed")
        lead_state_changed.connect(_on_lead_state_changed, dispatch_uid="integrations.lead_state_changed")
        lead_erasing.connect(_on_lead_erasing, dispatch_uid="integrations.lead_erasing")

        from django.db.models.signals import post_delete, post_save

        from integrations.models import CrmConnection, WebhookSubscription

        post_save.connect(_on_subscription_saved, sender=WebhookSubscription, dispatch_uid="integrations.saved")
        post_delete.connect(_on_subscription_saved, sender=WebhookSubscription, dispatch_uid="integrations.deleted")
        post_save.connect(_on_connection_saved, sender=CrmConnection, dispatch_uid="integrations.crm_saved")
        post_delete.connect(_on_connection_saved, sender=CrmConnection, dispatch_uid="integrations.crm_deleted")


def _on_subscription_saved(sender: Any, **kwargs: Any) -> None:
    from integrations.events import subscriptions_changed

    subscriptions_changed()


def _on_connection_saved(sender: Any, **kwargs: Any) -> None:
    from integrations.crm import connections_changed

    connections_changed()


def _crm(lead_id: int | None, *, classified: bool = False) -> None:
    from integrations.crm import crm_lead_changed

    if lead_id:
        crm_lead_changed(lead_id=lead_id, classified=classified)


def _record(type_: str, key: str, lead_id: int | None, **data: Any) -> None:
    from integrations.events import listening, webhook_event_record
    from integrations.snapshots import lead_snapshot

    if not any(type_ in events for _, events in listening()):
        return  # nobody listens: not even the lead is read
    data = {name: part() if callable(part) else part for name, part in data.items()}

    webhook_event_record(
        type=type_, key=key, lead_id=lead_id, data={"lead": lead_snapshot(lead_id), **data} if lead_id else data
    )


def _on_lead_received(sender: Any, *, lead_id: int, inbound_id: int, **kwargs: Any) -> None:
    _record("lead.created", f"lead.created:{lead_id}", lead_id)


def _on_lead_classified(
    sender: Any,
    *,
    lead_id: int,
    classification_id: int,
    intent: str,
    confidence: float,
    previous_intent: str,
    **kw: Any,
) -> None:
    _crm(lead_id, classified=True)
    details = {"classification": {"id": classification_id, "intent": intent, "confidence": round(confidence, 4)}}
    _record("lead.classified", f"lead.classified:{classification_id}", lead_id, **details)
    if previous_intent and previous_intent != intent:
        changed = {"intent": intent, "previous_intent": previous_intent}
        _record("lead.intent_changed", f"lead.intent_changed:{classification_id}", lead_id, change=changed)


def _on_turn_drafted(sender: Any, *, lead_id: int, message_id: int, **kwargs: Any) -> None:
    from integrations.snapshots import message_snapshot

    _record("message.drafted", f"message.drafted:{message_id}", lead_id, message=lambda: message_snapshot(message_id))


def _on_message_event(sender: Any, *, message_id: int, lead_id: int, event: str, **kwargs: Any) -> None:
    from integrations.snapshots import message_snapshot

    _record(f"message.{event}", f"message.{event}:{message_id}", lead_id, message=lambda: message_snapshot(message_id))
    if event == "sent":
        _crm(lead_id)


def _on_lead_wrote_again(sender: Any, *, lead_id: int, inbound_id: int, is_reply: bool = True, **kwargs: Any) -> None:
    _crm(lead_id)
    if is_reply:
        _record("lead.replied", f"lead.replied:{inbound_id}", lead_id, inbound_message={"id": inbound_id})


def _on_meeting_changed(sender: Any, *, meeting_id: int, lead_id: int | None, change: str, **kwargs: Any) -> None:
    from integrations.snapshots import meeting_snapshot

    _crm(lead_id)
    if change == "booked":
        _record("meeting.booked", f"meeting.booked:{meeting_id}", lead_id, meeting=lambda: meeting_snapshot(meeting_id))


def _on_lead_state_changed(sender: Any, *, lead_id: int, state: str, **kwargs: Any) -> None:
    if state in ("converted", "lost"):
        _record(f"lead.{state}", f"lead.{state}:{lead_id}", lead_id)
        _crm(lead_id)


def _on_lead_erasing(sender: Any, *, lead_ids: list[int], **kwargs: Any) -> dict[str, int]:
    from integrations.erasure import person_erase

    return person_erase(lead_ids=lead_ids)
