"""Messages whose outcome nobody recorded: the worker died after handing a message to the provider (or while it
waited for the answer), so it stays `sending`. Nothing here sends anything blindly:
- Twilio's status callback carries our message id, so its first callback records the message as sent;
- an email whose provider reported an event about it (anymail's tracking, by our id) was sent;
- the sweeper (`messages_reconcile_sending`, every five minutes) asks Twilio whether it has the message: found, it
  is recorded as sent; not there, it goes back to `approved` and is sent again (Twilio never got it);
- where the provider cannot be asked (email has no lookup API), the message is marked for a person, with the
  reason; the admin's *Mark sent* and *Send again* settle it.
An approved message whose send job was lost before it ran (a broker that hands a task out once, such as Redis,
restarted or its worker killed) is still `approved`, and nothing reached the provider: the same sweep queues its
send again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.access import REVIEW, require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition
from messaging.channels import OutboundMessage, SendResult, get_channel
from messaging.models import DeliveryEvent, Message, lock_message
from messaging.sending import message_record_sent

RECONCILER = "system:reconciler"
UNKNOWN = (
    "Outcome unknown: the worker stopped after handing this {channel} to the provider, and the provider cannot be "
    "asked. Check its activity log for {to}, then use Mark sent (it went out) or Send again (it did not)."
)


def message_reconcile_found(*, message_id: int, result: SendResult, actor: str = RECONCILER) -> Message | None:
    """The provider has a message we left in `sending`: record it as sent (once; anything else is left alone)."""
    with transaction.atomic():
        message = lock_message(message_id)
        if message.status != Message.Status.SENDING or message.provider_message_id:
            return None
        message_record_sent(message=message, result=result, actor=actor, action="message.reconciled_sent")
    return message


def messages_reconcile_sending(*, now: datetime | None = None) -> dict[str, int]:
    """The sweeper: every message `sending` for longer than SENDING_TIMEOUT_MINUTES without an answer recorded."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.SENDING_TIMEOUT_MINUTES)
    stuck = Message.objects.filter(
        status=Message.Status.SENDING, sending_started_at__lt=cutoff, provider_message_id="", outcome_unknown_at=None
    ).values_list("pk", flat=True)[:500]
    outcomes: dict[str, int] = {}
    for message_id in list(stuck):
        outcome = message_reconcile(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    requeued = messages_requeue_approved(cutoff=cutoff)
    if requeued:
        outcomes["requeued"] = requeued
    return outcomes


def messages_requeue_approved(*, cutoff: datetime) -> int:
    """Queue the send again of messages approved before `cutoff` and still `approved`, unless a retry or a wait is
    scheduled for them. Sending is idempotent (the row is claimed, its status checked), so a send job that was only
    slow, not lost, does nothing twice."""
    from django_q.models import Schedule

    waiting = {
        args
        for args in Schedule.objects.filter(func="messaging.tasks.send_message")
        .exclude(repeats=0)
        .values_list("args", flat=True)
    }
    approved = Message.objects.filter(status=Message.Status.APPROVED, approved_at__lt=cutoff).values_list(
        "pk", flat=True
    )[:500]
    requeued = 0
    for message_id in approved:
        if repr((message_id,)) in waiting:
            continue
        jobs.enqueue("messaging.tasks.send_message", message_id, task_name=f"send_message-{message_id}-requeued")
        requeued += 1
    return requeued


def message_reconcile(*, message_id: int) -> str:
    """Settle one stuck message: `sent` (the provider has it), `resent` (it has not: sent again), `unknown`
    (it cannot be asked: marked for a person) or `skipped` (no longer stuck)."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or message.status != Message.Status.SENDING or message.provider_message_id:
        return "skipped"
    event = DeliveryEvent.objects.filter(message=message).exclude(event_type="sent").first()
    if event is not None:  # the provider reported on it: it has it
        found = message_reconcile_found(
            message_id=message.pk, result=SendResult(provider=event.provider, provider_message_id="")
        )
        return "sent" if found else "skipped"
    channel = get_channel(message.channel)
    if not hasattr(channel, "find_sent"):
        _mark_unknown(message.pk)
        return "unknown"
    outbound = OutboundMessage(
        message_id=message.pk,
        channel=message.channel,
        to_address=message.to_address,
        subject=message.subject,
        body=message.body,
        content_sid=message.content_sid,
    )
    assert message.sending_started_at is not None
    result = channel.find_sent(outbound, since=message.sending_started_at)  # network: outside any transaction
    if result is not None:
        return "sent" if message_reconcile_found(message_id=message.pk, result=result) else "skipped"
    with transaction.atomic():
        locked = lock_message(message.pk)
        if locked.status != Message.Status.SENDING or locked.provider_message_id:
            return "skipped"
        _back_to_approved(locked, "The provider has no record of it (looked up after the worker stopped): sent again.")
    return "resent"


def message_mark_sent(*, message_id: int, actor: str, user: object = None) -> Message:
    """An operator checked the provider: the message went out."""
    require_permission(user, REVIEW, "settle messages whose outcome is unknown")
    with transaction.atomic():
        message = lock_message(message_id)
        _require_stuck(message)
        message_record_sent(
            message=message,
            result=SendResult(provider="confirmed by an operator", provider_message_id=""),
            actor=actor,
            action="message.confirmed_sent",
        )
    return message


def message_send_again(*, message_id: int, actor: str, user: object = None) -> Message:
    """An operator checked the provider: the message never went out; send it again."""
    require_permission(user, REVIEW, "settle messages whose outcome is unknown")
    with transaction.atomic():
        message = lock_message(message_id)
        _require_stuck(message)
        _back_to_approved(message, f"Sent again: {actor} found no record of it at the provider.", actor=actor)
    return message


def _require_stuck(message: Message) -> None:
    if message.status != Message.Status.SENDING or message.provider_message_id:
        raise InvalidTransition("Only a message stuck in `sending` with no answer recorded can be settled.")


def _mark_unknown(message_id: int) -> None:
    with transaction.atomic():
        message = lock_message(message_id)
        if message.status != Message.Status.SENDING or message.outcome_unknown_at is not None:
            return
        message.outcome_unknown_at = timezone.now()
        message.last_error = UNKNOWN.format(channel=message.get_channel_display().lower(), to=message.to_address)
        message.save(update_fields=["outcome_unknown_at", "last_error", "updated_at"])
        audit_record(actor=RECONCILER, action="message.outcome_unknown", obj=message, after={"status": "sending"})


def _back_to_approved(message: Message, reason: str, *, actor: str = RECONCILER) -> None:
    """The message never reached the provider: approved again (its approval still binds its text) and sent."""
    message.status = Message.Status.APPROVED
    message.last_error = reason
    message.outcome_unknown_at = None
    message.save(update_fields=["status", "last_error", "outcome_unknown_at", "updated_at"])
    audit_record(actor=actor, action="message.send_again", obj=message, after={"reason": reason})
    jobs.enqueue_on_commit("messaging.tasks.send_message", message.pk, task_name=f"send_message-{message.pk}-again")
