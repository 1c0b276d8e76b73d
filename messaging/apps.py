from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"
    operator_permissions = [
        "messaging.view_message",
        "messaging.change_message",
        "messaging.view_reviewqueueitem",
        "messaging.view_deliveryevent",
        "messaging.view_suppression",
        "messaging.add_suppression",
        "messaging.view_autosendpolicy",
        "messaging.view_sequence",
        "messaging.view_leadsequence",
        "messaging.view_conversation",
        "messaging.view_senderroute",
        "messaging.view_conversationnote",
        "messaging.add_conversationnote",
        "messaging.add_message",
    ]

    def ready(self) -> None:
        from anymail.signals import tracking

        from leads.signals import (
            lead_auto_replied,
            lead_erasing,
            lead_exporting,
            lead_merging,
            lead_received,
            lead_state_changed,
            lead_wrote_again,
        )

        lead_received.connect(_on_lead_received, dispatch_uid="messaging.process_lead")
        lead_wrote_again.connect(_on_lead_wrote_again, dispatch_uid="messaging.lead_wrote_again")
        lead_auto_replied.connect(_on_lead_auto_replied, dispatch_uid="messaging.lead_auto_replied")
        tracking.connect(_on_email_tracking, dispatch_uid="messaging.email_tracking")
        lead_merging.connect(_on_lead_merging, dispatch_uid="messaging.lead_merging")
        lead_erasing.connect(_on_lead_erasing, dispatch_uid="messaging.lead_erasing")
        lead_exporting.connect(_on_lead_exporting, dispatch_uid="messaging.lead_exporting")
        lead_state_changed.connect(_on_lead_state_changed, dispatch_uid="messaging.sequence_stop")


def _on_lead_received(sender: Any, *, lead_id: int, **kwargs: Any) -> None:
    from messaging.pipeline import enqueue_process_lead

    enqueue_process_lead(lead_id)


def _on_lead_wrote_again(sender: Any, *, lead_id: int, inbound_id: int, **kwargs: Any) -> None:
    from leads.models import InboundMessage
    from messaging.autosend import lead_wrote_again_hold_auto_sends
    from messaging.outcomes import message_stamp_reply

    lead_wrote_again_hold_auto_sends(lead_id=lead_id, inbound_id=inbound_id)
    inbound = InboundMessage.objects.filter(pk=inbound_id).only("received_at").first()
    if inbound is not None:
        message_stamp_reply(lead_id=lead_id, received_at=inbound.received_at)
    from messaging.conversation import enqueue_reply_turn

    enqueue_reply_turn(lead_id, inbound_id)  # the lead's turn: read it in the thread, answer it


def _on_lead_auto_replied(sender: Any, *, lead_id: int, inbound_id: int, returns_at: Any, **kwargs: Any) -> None:
    from messaging.conversation import lead_auto_reply_receive

    lead_auto_reply_receive(lead_id=lead_id, inbound_id=inbound_id, returns_at=returns_at)


def _on_lead_state_changed(sender: Any, *, lead_id: int, state: str, actor: str, **kwargs: Any) -> None:
    from leads.models import Lead
    from messaging.outcomes import message_stamp_conversion
    from messaging.sequences import STOP_STATES, sequences_stop_for_lead

    if state == Lead.State.CONVERTED:
        message_stamp_conversion(lead_id=lead_id)
    if state in STOP_STATES:
        sequences_stop_for_lead(lead_id=lead_id, reason=STOP_STATES[state], actor=actor)


def _on_email_tracking(sender: Any, *, event: Any, esp_name: str, **kwargs: Any) -> None:
    from messaging.events import email_event_receive

    email_event_receive(event=event, esp_name=esp_name)


def _on_lead_merging(sender: Any, *, keep_id: int, merge_id: int, **kwargs: Any) -> dict[str, int]:
    from bizpilot.relations import references_move
    from leads.models import Lead

    return references_move(model=Lead, source_id=merge_id, target_id=keep_id, app_label="messaging")


def _on_lead_erasing(sender: Any, *, lead_ids: list[int], addresses: list[str], **kwargs: Any) -> dict[str, int]:
    from messaging.erasure import person_erase

    return person_erase(lead_ids=lead_ids, addresses=addresses)


def _on_lead_exporting(sender: Any, *, lead_ids: list[int], addresses: list[str], **kwargs: Any) -> dict[str, Any]:
    from messaging.erasure import person_export

    return person_export(lead_ids=lead_ids, addresses=addresses)
