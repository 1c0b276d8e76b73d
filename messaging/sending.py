"""Sending an approved message exactly once, by email (Django's email API / anymail) or text (Twilio): claim it in
its own short transaction, send outside any transaction, record the outcome, retry transient errors with backoff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.actors import PIPELINE
from bizpilot.audit import audit_record
from leads.lifecycle import lead_mark_contacted
from leads.models import Channel, InboundMessage
from leads.threads import reply_address, thread_message_id
from messaging.channels import (
    AmbiguousSendError,
    OutboundMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
    get_channel,
)
from messaging.models import DeliveryEvent, Message, body_hash, lock_message
from messaging.sequences import sequence_start
from messaging.signals import message_event
from messaging.suppression import is_suppressed, suppression_add

log = structlog.get_logger(__name__)

SEND_MAX_ATTEMPTS = 4


SEND_RETRY_BASE_SECONDS = 30


WHATSAPP_WINDOW = timedelta(hours=24)


def message_send(*, message_id: int) -> Message:
    """Send an approved message exactly once.

    The message is moved to `sending` in its own transaction before the provider is called, so a second run (a
    retried job, a second worker) finds it no longer `approved` and sends nothing. If the process dies mid-send the
    message stays in `sending` for an operator to check rather than risk a duplicate. Right before sending, the
    suppression list is checked (auto-sends included) and a WhatsApp reply outside the 24-hour window is held.
    A transient provider error puts the message back to `approved` with a retry scheduled (with backoff); a
    permanent one marks it `failed` with the provider's reason.
    """
    with transaction.atomic():
        message = lock_message(message_id)
        if message.status != Message.Status.APPROVED:
            return message  # already sending/sent, or not approved: nothing to do
        if message.approved_hash != body_hash(message.subject, message.body):
            return _back_to_review(
                message,
                "The text changed after it was approved; it needs a new approval.",
                action="message.approval_invalidated",
            )
        suppression = is_suppressed(message.to_address)
        if suppression is not None:
            message.status = Message.Status.SUPPRESSED
            message.last_error = f"Not sent: {message.to_address} is on the suppression list ({suppression.reason})."
            message.save(update_fields=["status", "last_error", "updated_at"])
            audit_record(
                actor=PIPELINE,
                action="message.suppressed",
                obj=message,
                before={"status": Message.Status.APPROVED},
                after={"status": message.status, "reason": suppression.reason},
            )
            return message
        template = message.channel == Channel.WHATSAPP and not whatsapp_window_open(message.lead_id)
        if template and not message.content_sid:
            return _back_to_review(
                message,
                "Held: the lead has not written on WhatsApp in the last 24 hours, and "
                "outside that window WhatsApp only allows approved templates.",
                action="message.held_whatsapp_window",
            )
        message.status = Message.Status.SENDING
        message.sending_started_at = timezone.now()
        message.send_attempts += 1
        thread = email_thread(message) if message.channel == Channel.EMAIL else EmailThread()
        message.email_message_id = thread.message_id
        message.save(update_fields=["status", "sending_started_at", "send_attempts", "email_message_id", "updated_at"])
        outbound = OutboundMessage(
            message_id=message.pk,
            channel=message.channel,
            to_address=message.to_address,
            subject=message.subject,
            body=message.body,
            content_sid=message.content_sid if template else "",
            content_variables=message.content_variables if template else None,
            email_message_id=thread.message_id,
            in_reply_to=thread.in_reply_to,
            references=thread.references,
            reply_to=thread.reply_to,
            calendar_invite=message.calendar_invite,
        )

    try:
        result = get_channel(outbound.channel).send(outbound)
    except TransientSendError as exc:
        if _retry_later(message_id=message_id, error=str(exc)):
            return Message.objects.get(pk=message_id)
        _record_send_failure(
            message_id=message_id, error=f"gave up after {SEND_MAX_ATTEMPTS} tries: {exc}", permanent=False
        )
        return Message.objects.get(pk=message_id)
    except AmbiguousSendError as exc:
        with transaction.atomic():  # still `sending`: the reconciler looks it up after SENDING_TIMEOUT_MINUTES
            message = lock_message(message_id)
            message.last_error = f"{exc}; the outcome is checked with the provider before anything is sent again"
            message.save(update_fields=["last_error", "updated_at"])
            audit_record(actor=PIPELINE, action="message.send_ambiguous", obj=message, after={"error": str(exc)[:500]})
        return message
    except PermanentSendError as exc:
        _record_send_failure(message_id=message_id, error=str(exc), permanent=True)
        if exc.suppress:
            suppression_add(
                address=outbound.to_address, reason=exc.suppress, source=f"send:{message_id}", actor=PIPELINE
            )
        return Message.objects.get(pk=message_id)
    except Exception as exc:
        _record_send_failure(message_id=message_id, error=f"{type(exc).__name__}: {exc}", permanent=False)
        raise

    with transaction.atomic():
        message = lock_message(message_id)
        message_record_sent(message=message, result=result, actor=PIPELINE)
    log.info(
        "message.sent",
        message_id=message.pk,
        lead_id=message.lead_id,
        channel=message.channel,
        provider_message_id=message.provider_message_id,
    )
    return message


def message_record_sent(*, message: Message, result: SendResult, actor: str, action: str = "message.sent") -> None:
    """The provider has the message (its answer, or found later by the reconciler): `sent`, with its id, the
    `sent` event, the lead contacted and its follow-ups scheduled. The caller holds the row's lock."""
    message.status = Message.Status.SENT
    message.sent_at = timezone.now()
    message.provider_message_id = result.provider_message_id
    message.last_error = ""
    message.save(update_fields=["status", "sent_at", "provider_message_id", "last_error", "updated_at"])
    DeliveryEvent.objects.create(
        message=message,
        event_type="sent",
        provider=result.provider,
        occurred_at=message.sent_at,
        payload={"provider_message_id": result.provider_message_id},
    )
    lead_mark_contacted(lead_id=message.lead_id, actor=actor)
    sequence_start(message=message)  # the first reply went out: its follow-ups are scheduled
    message_event.send(sender=Message, message_id=message.pk, lead_id=message.lead_id, event="sent")
    audit_record(
        actor=actor,
        action=action,
        obj=message,
        before={"status": Message.Status.SENDING},
        after={"status": message.status, "provider_message_id": message.provider_message_id},
    )


@dataclass(frozen=True)
class EmailThread:
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    reply_to: str = ""


# RFC 5322 lets References grow with the thread; mail clients need only the last few.
MAX_REFERENCES = 10


def email_thread(message: Message) -> EmailThread:
    """The threading headers of an email to a lead: our Message-ID, the newest email of the conversation before it
    (the lead's email it answers, or our last email) as In-Reply-To, the thread's ids in time order as References,
    and the lead's signed reply address."""
    ids: list[tuple[Any, str]] = []
    for inbound in InboundMessage.objects.filter(lead_id=message.lead_id, channel=Channel.EMAIL).only(
        "received_at", "raw_payload", "provider_message_id"
    ):
        header = inbound.header("Message-ID").strip()
        if header.startswith("<"):
            ids.append((inbound.received_at, header))
    sent = Message.objects.filter(lead_id=message.lead_id, channel=Channel.EMAIL, sent_at__isnull=False)
    for at, message_id in (
        sent.exclude(pk=message.pk).exclude(email_message_id="").values_list("sent_at", "email_message_id")
    ):
        ids.append((at, message_id))
    chain = [message_id for _, message_id in sorted(ids, key=lambda pair: pair[0])]
    if message.in_reply_to_id is not None:
        answered = message.in_reply_to.header("Message-ID").strip() if message.in_reply_to else ""
        if answered.startswith("<") and answered in chain:  # it answers this one, even if later ones came
            chain.remove(answered)
            chain.append(answered)
    return EmailThread(
        message_id=thread_message_id(lead_id=message.lead_id, message_id=message.pk),
        in_reply_to=chain[-1] if chain else "",
        references=" ".join(chain[-MAX_REFERENCES:]),
        reply_to=reply_address(lead_id=message.lead_id),
    )


def _back_to_review(message: Message, reason: str, *, action: str) -> Message:
    message.status = Message.Status.PENDING_REVIEW
    message.approved_hash = ""
    message.last_error = reason
    message.save(update_fields=["status", "approved_hash", "last_error", "updated_at"])
    audit_record(actor=PIPELINE, action=action, obj=message, after={"status": message.status, "reason": reason})
    return message


def whatsapp_window_open(lead_id: int) -> bool:
    since = timezone.now() - WHATSAPP_WINDOW
    return InboundMessage.objects.filter(lead_id=lead_id, channel=Channel.WHATSAPP, received_at__gte=since).exists()


def _retry_later(*, message_id: int, error: str) -> bool:
    """Back to `approved`, with a send scheduled after a growing delay; False once the attempts are used up."""
    with transaction.atomic():
        message = lock_message(message_id)
        if message.status != Message.Status.SENDING or message.send_attempts >= SEND_MAX_ATTEMPTS:
            return False
        delay = SEND_RETRY_BASE_SECONDS * 2 ** (message.send_attempts - 1)
        message.status = Message.Status.APPROVED
        message.last_error = f"{error} (retry {message.send_attempts} of {SEND_MAX_ATTEMPTS - 1} in {delay} s)"
        message.save(update_fields=["status", "last_error", "updated_at"])
        jobs.schedule_once(
            "messaging.tasks.send_message",
            message_id,
            name=f"send_message-{message_id}-retry-{message.send_attempts}",
            run_at=timezone.now() + timedelta(seconds=delay),
        )
        audit_record(
            actor=PIPELINE,
            action="message.send_retry_scheduled",
            obj=message,
            after={"error": error[:500], "delay_seconds": delay},
        )
    return True


def _record_send_failure(*, message_id: int, error: str, permanent: bool) -> None:
    with transaction.atomic():
        message = lock_message(message_id)
        message.last_error = error[:5000]
        # A failed call that raised before the provider accepted anything is safe to mark failed; the operator
        # sees the reason and can send again by approving a new draft.
        message.status = Message.Status.FAILED
        message.save(update_fields=["status", "last_error", "updated_at"])
        audit_record(
            actor=PIPELINE,
            action="message.failed",
            obj=message,
            after={"status": message.status, "error": message.last_error[:500], "permanent": permanent},
        )
