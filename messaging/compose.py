"""A person writes to a lead from the conversation screen or the API, on any channel the lead can be reached on, and
adds internal notes. A written message takes the same send path as an approved draft: the suppression list and the
unsubscribe footer (message_send), the WhatsApp 24-hour rule (outside it only an approved template may go) and quiet
hours for texts (it waits for their end)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.access import REVIEW, require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from bizpilot.serializers import BLANK
from leads.models import Channel, Lead
from messaging.conversation import unanswered_messages
from messaging.models import AutoSendPolicy, ConversationNote, Message, body_hash, review_rank
from messaging.sending import whatsapp_window_open
from messaging.suppression import is_suppressed

MAX_NOTE = 5000


def lead_channels(lead: Lead) -> dict[str, str]:
    """The channels a person may write to this lead on, each with the address ("" with the reason it is not)."""
    texts_us = lead.preferred_channel in (Channel.SMS, Channel.WHATSAPP)
    consent = texts_us or lead.metadata.get("text_consent") is True
    return {
        Channel.EMAIL: lead.email,
        Channel.SMS: lead.phone if lead.phone and consent else "",
        Channel.WHATSAPP: lead.phone if lead.phone and consent else "",
    }


def message_compose(
    *,
    lead_id: int,
    channel: str,
    body: str,
    actor: str,
    subject: str = "",
    whatsapp_content_sid: str = "",
    user: Any = None,
) -> Message:
    """Write and send a message of one's own to a lead: stored as approved by its author, then sent by the worker
    (after the quiet hours for a text). Refused with the reason when the lead cannot be reached on that channel,
    the address is suppressed, or a WhatsApp message falls outside the 24-hour window without a template."""
    require_permission(user, REVIEW, "write to leads")
    body = body.replace("\r\n", "\n").strip(BLANK)
    subject = subject.strip(BLANK)
    if channel not in Channel.values:
        raise ValidationFailed("Unknown channel.", fields={"channel": [f"One of: {', '.join(Channel.values)}."]})
    errors: dict[str, list[str]] = {}
    if not body:
        errors["body"] = ["The message cannot be empty."]
    if channel == Channel.EMAIL and not subject:
        errors["subject"] = ["An email needs a subject."]
    if errors:
        raise ValidationFailed("Invalid message.", fields=errors)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id, erased_at__isnull=True).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        address = lead_channels(lead)[channel]
        if not address:
            why = "no email address" if channel == Channel.EMAIL else "no phone number, or no consent to text"
            raise InvalidTransition(f"The lead cannot be reached by {channel}: {why}.", fields={"channel": [why]})
        suppression = is_suppressed(address)
        if suppression is not None:
            raise InvalidTransition(f"{address} is on the suppression list ({suppression.get_reason_display()}).")
        if channel == Channel.WHATSAPP and not whatsapp_content_sid and not whatsapp_window_open(lead.pk):
            raise InvalidTransition(
                "The lead has not written on WhatsApp in the last 24 hours: only an approved template may be sent.",
                fields={"whatsapp_content_sid": ["Required outside the 24-hour window."]},
            )
        now = timezone.now()
        message = Message.objects.create(
            lead=lead,
            channel=channel,
            to_address=address,
            original_subject=subject if channel == Channel.EMAIL else "",
            original_body=body,
            subject=subject if channel == Channel.EMAIL else "",
            body=body,
            generated_by=Message.GeneratedBy.PERSON,
            generation_reason=f"written by {actor}",
            status=Message.Status.APPROVED,
            approved_hash=body_hash(subject if channel == Channel.EMAIL else "", body),
            approved_by=actor,
            reviewed_by=actor,
            approved_at=now,
            review_rank=review_rank(lead.intent),
            answers=[m.pk for m in unanswered_messages(lead_id=lead.pk)],
            content_sid=whatsapp_content_sid,
            auto_send_decision="written by a person",
        )
        quiet_until = AutoSendPolicy.current().quiet_hours_end_after(channel=channel, now=now)
        if quiet_until is not None:
            message.last_error = f"Waiting for the end of the quiet hours for texts ({quiet_until:%Y-%m-%d %H:%M})."
            message.save(update_fields=["last_error", "updated_at"])
            jobs.schedule_once(
                "messaging.tasks.send_message", message.pk, name=f"send_message-{message.pk}", run_at=quiet_until
            )
        else:
            jobs.enqueue_on_commit("messaging.tasks.send_message", message.pk, task_name=f"send_message-{message.pk}")
        audit_record(
            actor=actor,
            action="message.compose",
            obj=message,
            after={"channel": channel, "to": address, "quiet_until": quiet_until.isoformat() if quiet_until else None},
        )
    return message


def conversation_note_add(*, lead_id: int, body: str, actor: str, user: Any = None) -> ConversationNote:
    """An internal note in the lead's conversation: kept in the thread, never sent."""
    require_permission(user, REVIEW, "add notes")
    body = body.replace("\r\n", "\n").strip()
    if not body or len(body) > MAX_NOTE:
        message = "The note cannot be empty." if not body else f"At most {MAX_NOTE} characters."
        raise ValidationFailed("Invalid note.", fields={"body": [message]})
    with transaction.atomic():
        if not Lead.objects.filter(pk=lead_id, erased_at__isnull=True).exists():
            raise NotFound(f"Lead {lead_id} does not exist.")
        note = ConversationNote.objects.create(lead_id=lead_id, author=actor, body=body)
        audit_record(actor=actor, action="conversation.note", obj=note, after={"lead_id": lead_id})
    return note
