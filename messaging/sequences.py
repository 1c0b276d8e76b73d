"""Follow-up sequences: after the first reply to a lead is sent, its intent's sequence schedules the follow-ups (for
example day 2 an email, day 5 a text, day 10 a last email). Each step is drafted when due, with the conversation so
far as context, and goes through the same review and auto-send policy as a first reply.

A sequence stops at once, for that lead, when the lead replies on any channel, converts, unsubscribes (any of their
addresses, so an SMS STOP stops the emails too), a message to them bounces, or an operator stops it: steps not yet
sent are cancelled with the reason. Opens and clicks never advance or stop anything.

Steps run from a django-q2 schedule (`run_due_sequence_steps`, every minute). A step is claimed under a row lock
(`SELECT ... FOR UPDATE SKIP LOCKED`) and drafted once: two schedulers firing together draft one message, and a step
whose worker died mid-draft is scheduled again by the next sweep."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.access import REVIEW, require_permission
from bizpilot.actors import SEQUENCES
from bizpilot.audit import audit_record
from bizpilot.business import business
from bizpilot.errors import NotFound
from intelligence.drafting import follow_up_draft
from intelligence.models import SenderKind
from intelligence.prompts import first_name
from leads.models import Channel, InboundMessage, Lead
from messaging.models import (
    AutoSendPolicy,
    DeliveryEvent,
    LeadSequence,
    LeadSequenceStep,
    Message,
    Sequence,
    SequenceStep,
    review_rank,
)
from messaging.suppression import is_suppressed

# The lead's state that ends its sequence, and the reason recorded.
STOP_STATES: dict[str, str] = {
    Lead.State.REPLIED: "the lead replied",
    Lead.State.CONVERTED: "the lead converted",
    Lead.State.UNSUBSCRIBED: "the lead unsubscribed",
    Lead.State.LOST: "the lead was marked lost",
}
STOP_EVENTS = {"bounced": "a message to the lead bounced", "complained": "the lead marked a message as spam"}
# A step claimed longer ago than this without a draft (its worker died) is scheduled again.
CLAIM_TIMEOUT = timedelta(minutes=10)
UNSENT = [Message.Status.PENDING_REVIEW, Message.Status.APPROVED]


def sequence_start(*, message: Message) -> LeadSequence | None:
    """The first reply to a lead was sent (called in the transaction that records it): start the lead's sequence
    for its intent, once per lead, with every step's due time and channel. Not-a-prospect leads get none."""
    if message.in_reply_to_id is None or message.sent_at is None or message.reply_kind:
        return None  # a follow-up, an answer to the lead's reply, or not sent
    if message.generated_by == Message.GeneratedBy.HOLDOUT:
        return None  # the holdout gets the business's manual baseline: no AI follow-ups
    lead = message.lead
    classification = message.classification
    if classification is not None and classification.kind != SenderKind.PROSPECT:
        return None
    intent = classification.intent if classification else lead.intent
    sequence = Sequence.objects.filter(intent=intent, active=True).first()
    if sequence is None or LeadSequence.objects.filter(lead_id=lead.pk).exists():
        return None
    steps = list(sequence.steps.order_by("position"))
    if not steps:
        return None
    try:
        with transaction.atomic():
            run = LeadSequence.objects.create(lead=lead, sequence=sequence, started_at=message.sent_at)
    except IntegrityError:
        return None  # started by a concurrent send
    for step in steps:
        channel, skipped = step_channel(step=step, lead=lead, first_channel=message.channel)
        LeadSequenceStep.objects.create(
            lead_sequence=run,
            step=step,
            position=step.position,
            channel=channel,
            due_at=message.sent_at + step.delay,
            status=LeadSequenceStep.Status.SKIPPED if skipped else LeadSequenceStep.Status.SCHEDULED,
            reason=skipped,
        )
    audit_record(
        actor=SEQUENCES,
        action="sequence.start",
        obj=run,
        after={"sequence": sequence.name, "lead_id": lead.pk, "steps": len(steps)},
    )
    _complete_if_done(run)
    return run


def step_channel(*, step: SequenceStep, lead: Lead, first_channel: str) -> tuple[str, str]:
    """(channel, why it is skipped or ""): a text needs a phone number and consent to text, which is the lead
    having written to us by SMS or WhatsApp or `text_consent` in its metadata (set by the form that collected it)."""
    if step.channel == SequenceStep.StepChannel.SAME:
        return first_channel, ""
    if step.channel == SequenceStep.StepChannel.EMAIL:
        return (Channel.EMAIL, "") if lead.email else ("", "no email address")
    if not lead.phone:
        return "", "no phone number"
    texts_us = lead.preferred_channel in (Channel.SMS, Channel.WHATSAPP)
    if not texts_us and lead.metadata.get("text_consent") is not True:
        return "", "no consent to text (the lead never wrote by SMS or WhatsApp, and no text_consent)"
    return (Channel.WHATSAPP if lead.preferred_channel == Channel.WHATSAPP else Channel.SMS), ""


def sequence_steps_run_due(*, now: datetime | None = None) -> int:
    """The scheduled sweep: reschedule steps whose worker died mid-draft, then enqueue every due step (each runs
    once, whoever runs it). Returns how many were enqueued."""
    now = now or timezone.now()
    LeadSequenceStep.objects.filter(
        status=LeadSequenceStep.Status.DRAFTING, claimed_at__lt=now - CLAIM_TIMEOUT, message__isnull=True
    ).update(status=LeadSequenceStep.Status.SCHEDULED, claimed_at=None)
    due = list(
        LeadSequenceStep.objects.filter(
            status=LeadSequenceStep.Status.SCHEDULED,
            due_at__lte=now,
            lead_sequence__status=LeadSequence.Status.ACTIVE,
        )
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:500]
    )
    for step_id in due:
        # The sweep's time goes along: the step was due then, however late the job runs.
        jobs.enqueue(
            "messaging.tasks.run_sequence_step",
            step_id,
            now.isoformat(),
            task_name=f"sequence_step-{step_id}",
            queue=jobs.LLM,
        )
    return len(due)


def sequence_step_run(*, step_id: int, now: datetime | None = None) -> Message | None:
    """Draft one due step, once: claim it under a row lock (a second scheduler skips it), check that the sequence
    should go on, respect quiet hours and the daily cap (the step waits), draft outside any transaction, store the
    message, and apply the auto-send policy. Returns the message drafted, if any."""
    now = now or timezone.now()
    with transaction.atomic():
        step = _lock_step(step_id, skip_locked=True)
        if step is None or step.status != LeadSequenceStep.Status.SCHEDULED or step.due_at > now:
            return None
        run = step.lead_sequence
        if run.status != LeadSequence.Status.ACTIVE:
            _end_step(step, LeadSequenceStep.Status.CANCELLED, f"the sequence is {run.status}")
            return None
        reason = sequence_stop_reason(run.lead)
        if reason:
            _stop(run, reason, actor=SEQUENCES)
            return None
        wait_until = _wait_until(step.channel, now)
        if wait_until is not None:
            step.due_at = wait_until
            step.save(update_fields=["due_at"])
            return None
        step.status = LeadSequenceStep.Status.DRAFTING
        step.claimed_at = now
        step.save(update_fields=["status", "claimed_at"])
        instructions = (step.step.instructions, step.step.fallback_subject, step.step.fallback_body)
        lead_id, channel = run.lead_id, step.channel
        content_sid, content_variables = _whatsapp_template(step.step, run.lead, channel)

    draft = follow_up_draft(
        lead_id=lead_id,
        channel=channel,
        instructions=instructions[0],
        fallback_subject=instructions[1],
        fallback_body=instructions[2],
        conversation=conversation_text(lead_id=lead_id),
    )

    with transaction.atomic():
        step = _lock_step(step_id)
        if step is None or step.status != LeadSequenceStep.Status.DRAFTING or step.message_id is not None:
            return step.message if step else None
        run = step.lead_sequence
        if run.status != LeadSequence.Status.ACTIVE:
            _end_step(step, LeadSequenceStep.Status.CANCELLED, run.stop_reason or f"the sequence is {run.status}")
            return None
        lead = run.lead
        message = Message.objects.create(
            lead=lead,
            review_rank=review_rank(draft.intent),
            classification_id=draft.classification_id,
            channel=channel,
            to_address=lead.email if channel == Channel.EMAIL else lead.phone,
            original_subject=draft.subject,
            original_body=draft.body,
            subject=draft.subject,
            body=draft.body,
            generated_by=draft.generated_by,
            generation_reason=draft.reason,
            template_name=f"sequence:{run.sequence.name}:{step.position}:{draft.template_name}",
            draft_confidence=draft.confidence,
            checks_failed=draft.checks_failed,
            injection_signals=draft.injection_signals,
            model_call_id=draft.model_call_id,
            content_sid=content_sid,
            content_variables=content_variables,
        )
        step.message = message
        step.status = LeadSequenceStep.Status.DRAFTED
        step.save(update_fields=["message", "status"])
        audit_record(
            actor=SEQUENCES,
            action="sequence.step_drafted",
            obj=message,
            after={"sequence": run.sequence.name, "position": step.position, "generated_by": draft.generated_by},
        )
        _complete_if_done(run)
    from messaging.autosend import message_apply_send_policy

    return message_apply_send_policy(message_id=message.pk)


def sequence_stop_reason(lead: Lead) -> str:
    """Why this lead's sequence must stop now ("" when it may go on): its state, any of its addresses on the
    suppression list, or a bounce or spam complaint on a message to it."""
    if lead.state in STOP_STATES:
        return STOP_STATES[lead.state]
    for address in (lead.email, lead.phone):
        if address and (suppression := is_suppressed(address)) is not None:
            return f"{address} is on the suppression list ({suppression.get_reason_display().lower()})"
    event = (
        DeliveryEvent.objects.filter(message__lead_id=lead.pk, event_type__in=STOP_EVENTS, is_machine=False)
        .values_list("event_type", flat=True)
        .first()
    )
    return STOP_EVENTS[event] if event else ""


def sequence_stop(*, lead_id: int, reason: str, actor: str, user: Any = None) -> LeadSequence:
    """An operator stops a lead's sequence now: steps not sent are cancelled with the reason."""
    require_permission(user, REVIEW, "stop follow-up sequences")
    with transaction.atomic():
        run = LeadSequence.objects.select_for_update().filter(lead_id=lead_id).first()
        if run is None:
            raise NotFound(f"Lead {lead_id} has no follow-up sequence.")
        _stop(run, reason, actor=actor)
    return run


def sequences_stop_for_lead(*, lead_id: int, reason: str, actor: str = SEQUENCES) -> bool:
    """Stop the lead's active sequence, if it has one (a reply, a conversion, an unsubscribe, a bounce)."""
    with transaction.atomic():
        run = LeadSequence.objects.select_for_update().filter(lead_id=lead_id).exclude(status="stopped").first()
        if run is None:
            return False
        _stop(run, reason, actor=actor)
    return run.status == LeadSequence.Status.STOPPED


def sequences_stop_for_address(*, address: str, reason: str, actor: str = SEQUENCES) -> int:
    """Stop the sequences of every lead at this address (an opt-out on one channel stops all of them)."""
    lookup: dict[str, Any] = {"lead__email__iexact": address} if "@" in address else {"lead__phone": address}
    lead_ids = list(
        LeadSequence.objects.exclude(status=LeadSequence.Status.STOPPED)
        .filter(**lookup)
        .values_list("lead_id", flat=True)
    )
    return sum(sequences_stop_for_lead(lead_id=lead_id, reason=reason, actor=actor) for lead_id in lead_ids)


def conversation_text(*, lead_id: int) -> str:
    """The conversation so far, oldest first, for a follow-up's prompt: what the lead wrote, what we sent (and
    whether a person opened it; machine opens do not count)."""
    turns: list[tuple[datetime, str]] = []
    for inbound in InboundMessage.objects.filter(lead_id=lead_id).order_by("received_at"):
        text = " ".join(f"{inbound.subject} {inbound.body}".split())[:800]
        turns.append(
            (inbound.received_at, f"[{inbound.received_at:%Y-%m-%d}] The lead wrote ({inbound.channel}): {text}")
        )
    sent = Message.objects.filter(lead_id=lead_id, sent_at__isnull=False).prefetch_related("events")
    for message in sent:
        opened = any(e.event_type in ("opened", "clicked") and not e.is_machine for e in message.events.all())
        text = " ".join(f"{message.subject} {message.body}".split())[:800]
        seen = "opened" if opened else "not opened yet"
        turns.append(
            (
                message.sent_at or message.created_at,
                f"[{message.sent_at:%Y-%m-%d}] We sent ({message.channel}, {seen}): {text}",
            )
        )
    return "\n".join(text for _, text in sorted(turns, key=lambda t: t[0]))


def _wait_until(channel: str, now: datetime) -> datetime | None:
    """When a due step must wait: texts not during quiet hours; nothing once today's cap of automatic sends is
    reached (the auto-send policy's settings)."""
    policy = AutoSendPolicy.current()
    quiet_until = policy.quiet_hours_end_after(channel=channel, now=now)
    if quiet_until is not None:
        return quiet_until
    return policy.daily_cap_resets_at(now=now) if policy.enabled else None


TEMPLATE_VALUES = ("first_name", "company", "business_name", "sender_name", "signature")


def _whatsapp_template(step: SequenceStep, lead: Lead, channel: str) -> tuple[str, dict[str, str]]:
    """The step's approved WhatsApp content template and its variables filled in (used when the 24-hour window is
    closed at send time; inside it the drafted text goes)."""
    if channel != Channel.WHATSAPP or not step.whatsapp_content_sid:
        return "", {}
    values = {
        "first_name": first_name(lead.name) or "there",
        "company": lead.company,
        "business_name": business().name,
        "sender_name": business().sender_name,
        "signature": business().sign_off,
    }
    variables = {str(key): values.get(str(name), "") for key, name in (step.whatsapp_content_variables or {}).items()}
    return step.whatsapp_content_sid, variables


def _lock_step(step_id: int, *, skip_locked: bool = False) -> LeadSequenceStep | None:
    return (
        LeadSequenceStep.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("lead_sequence__lead", "lead_sequence__sequence", "step")
        .filter(pk=step_id)
        .first()
    )


def _stop(run: LeadSequence, reason: str, *, actor: str) -> None:
    """Stop a run (locked by the caller): every step not yet sent is cancelled, drafts included, with the reason."""
    unsent = run.steps.filter(message__status__in=UNSENT).exists()
    if run.status == LeadSequence.Status.STOPPED or (run.status == LeadSequence.Status.COMPLETED and not unsent):
        return
    run.status = LeadSequence.Status.STOPPED
    run.stop_reason = reason
    run.stopped_at = timezone.now()
    run.save(update_fields=["status", "stop_reason", "stopped_at"])
    for step in run.steps.select_for_update(of=("self",)).select_related("message"):
        if step.status in (LeadSequenceStep.Status.SCHEDULED, LeadSequenceStep.Status.DRAFTING):
            _end_step(step, LeadSequenceStep.Status.CANCELLED, reason)
        elif step.message is not None and step.message.status in UNSENT:
            message = Message.objects.select_for_update().get(pk=step.message.pk)
            if message.status in UNSENT:
                before = message.status
                message.status = Message.Status.CANCELLED
                message.last_error = f"Cancelled: the follow-up sequence stopped ({reason})."
                message.save(update_fields=["status", "last_error", "updated_at"])
                audit_record(
                    actor=actor,
                    action="message.cancelled",
                    obj=message,
                    before={"status": before},
                    after={"status": message.status, "reason": reason},
                )
    audit_record(actor=actor, action="sequence.stop", obj=run, after={"reason": reason})


def _end_step(step: LeadSequenceStep, status: str, reason: str) -> None:
    step.status = status
    step.reason = reason
    step.save(update_fields=["status", "reason"])


def _complete_if_done(run: LeadSequence) -> None:
    """A run whose every step is drafted or skipped is complete (its drafts still go through review)."""
    open_steps = run.steps.filter(
        status__in=[LeadSequenceStep.Status.SCHEDULED, LeadSequenceStep.Status.DRAFTING]
    ).exists()
    if run.status == LeadSequence.Status.ACTIVE and not open_steps:
        run.status = LeadSequence.Status.COMPLETED
        run.save(update_fields=["status"])
