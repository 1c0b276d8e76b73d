"""Messaging use cases: the pipeline (classify -> draft), review (approve / edit / reject) and sending.

Every model call and network send happens outside a transaction; each write locks its row and re-checks state.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizpilot.access import REVIEW, require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from intelligence.drafting import DraftResult, LeadFacts, draft_reply, first_name
from intelligence.models import Classification
from intelligence.safety import draft_checks, injection_signals
from intelligence.services import (
    classification_arbitrate,
    classification_store,
    classify_text,
    lead_text,
    prompt_template_live,
    voice_example_learn,
)
from leads.contacts import InvalidPhone, normalize_phone
from leads.models import Channel, InboundMessage, Lead
from leads.services import LeadInput, lead_claim_for_processing, lead_ingest, lead_record_failure, lead_transition
from messaging.channels import (
    TWILIO_SUPPRESS_CODES,
    OutboundMessage,
    PermanentSendError,
    TransientSendError,
    get_channel,
)
from messaging.models import AutoSendPolicy, DeliveryEvent, Message, Suppression, body_hash

logger = logging.getLogger(__name__)
PIPELINE = "system:pipeline"
AUTO_SEND = "system:auto-send"
MAX_SUBJECT = 300
MAX_BODY = 20_000


# --- The pipeline ---


def lead_process(*, lead_id: int) -> Message | None:
    """Classify a lead's latest inbound message and draft a reply. Idempotent: a lead already drafted (or held by a
    concurrent run) is left alone; a failure records its error on the lead, which stays retryable, and re-raises."""
    lead = lead_claim_for_processing(lead_id=lead_id)
    if lead is None:
        return None
    try:
        inbound = lead.inbound_messages.order_by("-received_at", "-id").first()
        if inbound is None:
            raise RuntimeError("the lead has no inbound message to answer")
        classification = lead.classifications.order_by("-created_at", "-id").first()
        if lead.resume_state != Lead.State.CLASSIFIED or classification is None:
            text = lead_text(subject=inbound.subject, body=inbound.body)
            result = classification_arbitrate(result=classify_text(text=text), text=text, lead_id=lead.pk)
            classification = classification_store(lead_id=lead.pk, result=result)
        channel = lead.preferred_channel
        template = prompt_template_live(intent=classification.intent, channel=channel)
        draft = draft_reply(
            lead=LeadFacts(
                lead_id=lead.pk,
                name=lead.name,
                company=lead.company,
                channel=channel,
                subject=inbound.subject,
                message=inbound.body,
            ),
            intent=classification.intent,
            snippets=classification.snippets,
            template=template,
        )
        message = _store_draft(
            claimed=lead, inbound=inbound, classification=classification, draft=draft, max_chars=template.max_chars
        )
    except Exception as exc:
        lead_record_failure(lead_id=lead_id, error=f"{type(exc).__name__}: {exc}")
        raise
    if message is not None and message.status == Message.Status.PENDING_REVIEW and not message.auto_send_decision:
        message = message_apply_send_policy(message_id=message.pk)
    return message


def _store_draft(
    *, claimed: Lead, inbound: InboundMessage, classification: Classification, draft: DraftResult, max_chars: int
) -> Message | None:
    # The lead as claimed for this run (the row is locked and re-read below before writing).
    lead_id = claimed.pk
    signals, checks, confidence = _assess(
        draft, lead=claimed, inbound=inbound, classification=classification, channel=claimed.preferred_channel,
        max_chars=max_chars,
    )  # fmt: skip
    try:
        with transaction.atomic():
            lead = Lead.objects.select_for_update().get(pk=lead_id)
            # The recipient and channel come from the lead in the database, never from the model's output.
            to_address = lead.email if lead.preferred_channel == Channel.EMAIL else lead.phone
            message = Message.objects.create(
                lead=lead,
                in_reply_to=inbound,
                classification=classification,
                channel=lead.preferred_channel,
                to_address=to_address,
                original_subject=draft.subject,
                original_body=draft.body,
                subject=draft.subject,
                body=draft.body,
                generated_by=draft.generated_by,
                generation_reason=draft.reason,
                template_name=draft.template,
                prompt_template_id=draft.prompt_template_id,
                draft_confidence=confidence,
                checks_failed=checks,
                injection_signals=signals,
                model_call_id=draft.model_call_id,
            )
            lead.processing_started_at = None
            lead.last_error = ""
            lead.save(update_fields=["processing_started_at", "last_error", "updated_at"])
            lead_transition(lead=lead, to_state=Lead.State.DRAFTED, actor=PIPELINE)
            audit_record(
                actor=PIPELINE,
                action="message.draft",
                obj=message,
                after={
                    "status": message.status,
                    "generated_by": message.generated_by,
                    "reason": draft.reason,
                },
            )
    except IntegrityError:
        # Another run drafted this inbound message first; one draft per inbound message.
        return Message.objects.filter(in_reply_to=inbound).first()
    return message


def _assess(
    draft: DraftResult,
    *,
    lead: Lead,
    inbound: InboundMessage,
    classification: Classification | None,
    channel: str,
    max_chars: int,
) -> tuple[list[str], list[str], float]:
    """Injection signals on the lead's text, the draft checks that failed, and the draft's confidence: the
    classifier's, times the model's own when an LLM wrote it, halved per failed check."""
    snippets = classification.snippets if classification else []
    signals = injection_signals(inbound.subject, inbound.body, lead.name, lead.company)
    checks = draft_checks(subject=draft.subject, body=draft.body, channel=channel, first_name=first_name(lead.name),
                          knowledge="\n".join(s["text"] for s in snippets), max_chars=max_chars)  # fmt: skip
    confidence = (classification.confidence if classification else 1 / 3) * (
        draft.confidence if draft.confidence is not None else 1.0
    )
    return signals, checks, round(confidence * 0.5 ** len(checks), 4)


def leads_requeue_stalled(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Safety net run on a schedule: enqueue leads whose job was never run or died (nothing accepted is lost)."""
    from messaging.tasks import enqueue_process_lead

    cutoff = timezone.now() - older_than
    stalled = list(
        Lead.objects.filter(state__in=[Lead.State.RECEIVED, Lead.State.CLASSIFIED], updated_at__lt=cutoff)
        .filter(processing_attempts__lt=5, auto_process=True)
        .values_list("pk", flat=True)[:500]
    )
    stalled += list(
        Lead.objects.filter(
            state=Lead.State.PROCESSING, processing_started_at__lt=timezone.now() - timedelta(minutes=10)
        ).values_list("pk", flat=True)[:500]
    )
    for lead_id in stalled:
        enqueue_process_lead(lead_id)
    return len(stalled)


def message_apply_send_policy(*, message_id: int) -> Message:
    """Decide once whether a fresh draft goes out without review (the AutoSendPolicy), record why, and approve it
    if so."""
    policy = AutoSendPolicy.current()
    with transaction.atomic():
        message = _locked_message(message_id)
        if message.status != Message.Status.PENDING_REVIEW or message.auto_send_decision:
            return message
        reasons = auto_send_withheld_because(message, policy)
        send = not reasons
        message.auto_send_decision = (
            f"auto-sent: confidence {message.draft_confidence:.2f} >= {policy.threshold:.2f}, every check passed"
            if send
            else "held for review: " + "; ".join(reasons)
        )
        message.save(update_fields=["auto_send_decision", "updated_at"])
        audit_record(actor=AUTO_SEND, action="message.auto_send_decision", obj=message,
                     after={"decision": message.auto_send_decision})  # fmt: skip
    if send:
        return message_approve(message_id=message_id, actor=AUTO_SEND)
    return message


AUTO_SEND_POLICY_FIELDS = ["enabled", "threshold", "email", "sms", "whatsapp", "hot", "warm", "cold",
                           "quiet_hours_start", "quiet_hours_end", "time_zone", "daily_cap"]  # fmt: skip


def auto_send_policy_save(*, values: dict, actor: str, user=None) -> AutoSendPolicy:
    """Change the auto-send policy (admins only); the change is audited with before and after."""
    require_permission(user, "messaging.change_autosendpolicy", "change the auto-send policy")
    errors = auto_send_policy_validate(values)
    if errors:
        raise ValidationFailed("The auto-send policy is not valid.", fields=errors)
    return _auto_send_policy_write(values, actor)


def auto_send_policy_validate(values: dict) -> dict[str, list[str]]:
    """Field errors for a policy change (empty when it is valid)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    errors: dict[str, list[str]] = {}
    threshold = values.get("threshold", 0.85)
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        errors["threshold"] = ["Must be a number from 0 to 1."]
    try:
        ZoneInfo(values.get("time_zone") or "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = ["Not a time zone name (e.g. Europe/London, America/New_York)."]
    if bool(values.get("quiet_hours_start")) != bool(values.get("quiet_hours_end")):
        errors["quiet_hours_end"] = ["Give both the start and the end of the quiet hours, or neither."]
    return errors


def _auto_send_policy_write(values: dict, actor: str) -> AutoSendPolicy:
    with transaction.atomic():
        policy = AutoSendPolicy.objects.select_for_update().order_by("pk").first() or AutoSendPolicy.current()
        before = {f: str(getattr(policy, f)) for f in AUTO_SEND_POLICY_FIELDS} if policy.pk else None
        for field_name in AUTO_SEND_POLICY_FIELDS:
            if field_name in values:
                setattr(policy, field_name, values[field_name])
        policy.updated_by = actor
        policy.save()
        audit_record(actor=actor, action="auto_send_policy.change", obj=policy, before=before,
                     after={f: str(getattr(policy, f)) for f in AUTO_SEND_POLICY_FIELDS})  # fmt: skip
    return policy


def auto_send_withheld_because(message: Message, policy: AutoSendPolicy) -> list[str]:
    """Every reason the policy keeps this draft for a person (empty: it may go out on its own)."""
    from zoneinfo import ZoneInfo

    reasons = []
    if not policy.enabled:
        reasons.append("auto-send is off")
    if message.draft_confidence is None or message.draft_confidence < policy.threshold:
        reasons.append(f"confidence {message.draft_confidence or 0:.2f} < {policy.threshold:.2f}")
    if not getattr(policy, message.channel, False):
        reasons.append(f"auto-send is off for {message.get_channel_display()}")
    intent = message.classification.intent if message.classification else message.lead.intent
    if intent and not getattr(policy, intent, False):
        reasons.append(f"auto-send is off for {intent} leads")
    zone = ZoneInfo(policy.time_zone or settings.BUSINESS_TIME_ZONE)
    now = timezone.now().astimezone(zone)
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if message.channel != Channel.EMAIL and start and end and start != end:
        quiet = start <= now.time() < end if start < end else (now.time() >= start or now.time() < end)
        if quiet:
            reasons.append(f"quiet hours for texts ({start:%H:%M}-{end:%H:%M} {zone.key})")
    if policy.daily_cap is not None:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        sent_today = Message.objects.filter(approved_by=AUTO_SEND, approved_at__gte=midnight).count()
        if sent_today >= policy.daily_cap:
            reasons.append(f"today's cap of {policy.daily_cap} automatic sends is reached")
    reasons += [f"check failed: {reason}" for reason in message.checks_failed]
    reasons += [f"possible prompt injection: {signal}" for signal in message.injection_signals]
    return reasons


def lead_wrote_again_hold_auto_sends(*, lead_id: int, inbound_id: int) -> int:
    """The lead wrote again: replies we were about to send automatically go back to review, because they answer a
    conversation that has moved on. Returns how many were held."""
    held = 0
    with transaction.atomic():
        pending = Message.objects.select_for_update().filter(
            lead_id=lead_id, status=Message.Status.APPROVED, approved_by=AUTO_SEND
        )
        for message in pending:
            message.status = Message.Status.PENDING_REVIEW
            message.approved_hash = ""
            message.approved_by = ""
            message.approved_at = None
            message.auto_send_decision = (
                f"{message.auto_send_decision}; cancelled: the lead wrote again (#{inbound_id})"
            )
            message.save(update_fields=["status", "approved_hash", "approved_by", "approved_at",
                                        "auto_send_decision", "updated_at"])  # fmt: skip
            after = {"status": message.status, "reason": "the lead wrote again", "inbound_id": inbound_id}
            audit_record(actor=AUTO_SEND, action="message.auto_send_cancelled", obj=message,
                         before={"status": Message.Status.APPROVED}, after=after)  # fmt: skip
            held += 1
    return held


# --- Review ---


def edit_size(before: str, after: str) -> int:
    """Characters inserted, deleted or replaced to turn `before` into `after`."""
    import difflib

    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _require_pending_review(message: Message, verb: str) -> None:
    if message.status != Message.Status.PENDING_REVIEW:
        raise InvalidTransition(f"Only drafts pending review can be {verb}; this message is {message.status}.")


def _locked_message(message_id: int) -> Message:
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"Message {message_id} does not exist.")
    return message


def _validate_text(subject: str | None, body: str | None, channel: str) -> None:
    fields: dict[str, list[str]] = {}
    if body is not None and not body.strip():
        fields["body"] = ["The reply cannot be empty."]
    if body is not None and len(body) > MAX_BODY:
        fields["body"] = [f"Ensure this field has no more than {MAX_BODY} characters."]
    if subject is not None and len(subject) > MAX_SUBJECT:
        fields["subject"] = [f"Ensure this field has no more than {MAX_SUBJECT} characters."]
    if subject is not None and channel == Channel.EMAIL and not subject.strip():
        fields["subject"] = ["An email needs a subject."]
    if fields:
        raise ValidationFailed("Invalid reply.", fields=fields)


def message_update_draft(
    *, message_id: int, actor: str, subject: str | None = None, body: str | None = None, user=None
) -> Message:
    """Edit a draft that is still waiting for review; the original text is kept alongside, and how many characters
    changed (the edit size) is stored."""
    require_permission(user, REVIEW, "edit drafts")
    # Browsers submit textareas with CRLF line ends; the stored text (and its approval hash) uses plain newlines.
    subject = subject.replace("\r\n", "\n").replace("\r", "\n") if subject is not None else None
    body = body.replace("\r\n", "\n").replace("\r", "\n") if body is not None else None
    with transaction.atomic():
        message = _locked_message(message_id)
        _require_pending_review(message, "edited")
        _validate_text(subject, body, message.channel)
        before = {"subject": message.subject, "body": message.body}
        if subject is not None:
            message.subject = subject.strip()
        if body is not None:
            message.body = body.strip()
        if before != {"subject": message.subject, "body": message.body}:
            message.edit_size = edit_size(
                f"{message.original_subject}\n{message.original_body}", f"{message.subject}\n{message.body}"
            )
            message.save(update_fields=["subject", "body", "edit_size", "updated_at"])
            audit_record(
                actor=actor,
                action="message.edit",
                obj=message,
                before=before,
                after={"subject": message.subject, "body": message.body},
            )
    return message


def message_approve(
    *, message_id: int, actor: str, subject: str | None = None, body: str | None = None, user=None
) -> Message:
    """Approve a draft (optionally with edited text) and enqueue its sending once the transaction commits.

    The approval binds to the exact text approved: its hash is stored and checked again before sending.
    """
    from messaging.tasks import enqueue_learn_voice, enqueue_send_message

    require_permission(user, REVIEW, "approve replies")
    with transaction.atomic():
        if subject is not None or body is not None:
            message_update_draft(message_id=message_id, actor=actor, subject=subject, body=body, user=user)
        message = _locked_message(message_id)
        _require_pending_review(message, "approved")
        _validate_text(message.subject, message.body, message.channel)
        message.status = Message.Status.APPROVED
        message.approved_hash = body_hash(message.subject, message.body)
        message.approved_by = actor
        message.reviewed_by = actor
        message.approved_at = timezone.now()
        message.save(
            update_fields=[
                "status",
                "approved_hash",
                "approved_by",
                "reviewed_by",
                "approved_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="message.approve",
            obj=message,
            before={"status": Message.Status.PENDING_REVIEW},
            after={"status": message.status, "edited": message.was_edited},
        )
        transaction.on_commit(lambda: enqueue_send_message(message_id))
        if actor != AUTO_SEND:  # what a person approved teaches the next drafts
            transaction.on_commit(lambda: enqueue_learn_voice(message_id))
    return message


def message_learn_voice(*, message_id: int) -> bool:
    """Keep a human-approved reply as an example of the business's voice (idempotent: one example per message)."""
    message = Message.objects.select_related("lead", "in_reply_to", "classification").filter(pk=message_id).first()
    if message is None or not message.approved_by or message.approved_by == AUTO_SEND or message.in_reply_to is None:
        return False
    voice_example_learn(
        message_id=message.pk,
        intent=message.classification.intent if message.classification else message.lead.intent,
        channel=message.channel,
        lead_name=message.lead.name,
        lead_text=f"{message.in_reply_to.subject}\n{message.in_reply_to.body}".strip(),
        reply_text=message.body,
        edited=message.was_edited,
    )
    return True


def message_regenerate(*, message_id: int, actor: str, note: str = "", user=None) -> Message:
    """Draft a pending reply again, optionally with the operator's note to the model. The new text replaces the
    draft (the previous one is kept in the audit log), any approval is void, and it waits for review."""
    require_permission(user, REVIEW, "regenerate drafts")
    message = Message.objects.select_related("lead", "in_reply_to", "classification").filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"Message {message_id} does not exist.")
    _require_pending_review(message, "regenerated")
    lead, inbound, classification = message.lead, message.in_reply_to, message.classification
    if inbound is None:
        raise InvalidTransition("This reply answers no stored message, so it cannot be drafted again.")
    intent = classification.intent if classification else (lead.intent or "warm")
    template = prompt_template_live(intent=intent, channel=message.channel)
    draft = draft_reply(  # the model call happens outside any transaction
        lead=LeadFacts(lead_id=lead.pk, name=lead.name, company=lead.company, channel=message.channel,
                       subject=inbound.subject, message=inbound.body),
        intent=intent, snippets=classification.snippets if classification else [], template=template,
        operator_note=note,
    )  # fmt: skip
    signals, checks, confidence = _assess(draft, lead=lead, inbound=inbound, classification=classification,
                                          channel=message.channel, max_chars=template.max_chars)  # fmt: skip
    with transaction.atomic():
        message = _locked_message(message_id)
        _require_pending_review(message, "regenerated")  # reviewed meanwhile: keep what the reviewer saw
        before = {"subject": message.subject, "body": message.body, "generated_by": message.generated_by}
        message.original_subject = message.subject = draft.subject
        message.original_body = message.body = draft.body
        message.generated_by = draft.generated_by
        message.generation_reason = draft.reason + (f" (operator's note: {note.strip()})" if note.strip() else "")
        message.template_name = draft.template
        message.prompt_template_id = draft.prompt_template_id
        message.model_call_id = draft.model_call_id
        message.draft_confidence = confidence
        message.checks_failed = checks
        message.injection_signals = signals
        message.approved_hash = ""
        message.edit_size = 0
        message.auto_send_decision = "held for review: regenerated by an operator"
        message.save()
        audit_record(actor=actor, action="message.regenerate", obj=message, before=before,
                     after={"subject": message.subject, "body": message.body, "note": note.strip(),
                            "generated_by": message.generated_by})  # fmt: skip
    return message


def message_reject(*, message_id: int, actor: str, reason: str = "", user=None) -> Message:
    require_permission(user, REVIEW, "reject drafts")
    with transaction.atomic():
        message = _locked_message(message_id)
        _require_pending_review(message, "rejected")
        message.status = Message.Status.REJECTED
        message.rejected_reason = reason.strip()
        message.reviewed_by = actor
        message.save(update_fields=["status", "rejected_reason", "reviewed_by", "updated_at"])
        audit_record(
            actor=actor,
            action="message.reject",
            obj=message,
            before={"status": Message.Status.PENDING_REVIEW},
            after={"status": message.status, "reason": message.rejected_reason},
        )
    return message


# --- Sending ---


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
        message = _locked_message(message_id)
        if message.status != Message.Status.APPROVED:
            return message  # already sending/sent, or not approved: nothing to do
        if message.approved_hash != body_hash(message.subject, message.body):
            return _back_to_review(message, "The text changed after it was approved; it needs a new approval.",
                                   action="message.approval_invalidated")  # fmt: skip
        suppression = is_suppressed(message.to_address)
        if suppression is not None:
            message.status = Message.Status.SUPPRESSED
            message.last_error = f"Not sent: {message.to_address} is on the suppression list ({suppression.reason})."
            message.save(update_fields=["status", "last_error", "updated_at"])
            audit_record(actor=PIPELINE, action="message.suppressed", obj=message,
                         before={"status": Message.Status.APPROVED},
                         after={"status": message.status, "reason": suppression.reason})  # fmt: skip
            return message
        if message.channel == Channel.WHATSAPP and not _whatsapp_window_open(message.lead_id):
            return _back_to_review(message, "Held: the lead has not written on WhatsApp in the last 24 hours, and "
                                   "outside that window WhatsApp only allows approved templates.",
                                   action="message.held_whatsapp_window")  # fmt: skip
        message.status = Message.Status.SENDING
        message.sending_started_at = timezone.now()
        message.send_attempts += 1
        message.save(update_fields=["status", "sending_started_at", "send_attempts", "updated_at"])
        outbound = OutboundMessage(
            message_id=message.pk,
            channel=message.channel,
            to_address=message.to_address,
            subject=message.subject,
            body=message.body,
        )

    try:
        result = get_channel(outbound.channel).send(outbound)
    except TransientSendError as exc:
        if _retry_later(message_id=message_id, error=str(exc)):
            return Message.objects.get(pk=message_id)
        _record_send_failure(message_id=message_id, error=f"gave up after {SEND_MAX_ATTEMPTS} tries: {exc}",
                             permanent=False)  # fmt: skip
        return Message.objects.get(pk=message_id)
    except PermanentSendError as exc:
        _record_send_failure(message_id=message_id, error=str(exc), permanent=True)
        if exc.suppress:
            suppression_add(address=outbound.to_address, reason=exc.suppress, source=f"send:{message_id}",
                            actor=PIPELINE)  # fmt: skip
        return Message.objects.get(pk=message_id)
    except Exception as exc:
        _record_send_failure(message_id=message_id, error=f"{type(exc).__name__}: {exc}", permanent=False)
        raise

    with transaction.atomic():
        message = _locked_message(message_id)
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
        lead = Lead.objects.select_for_update().get(pk=message.lead_id)
        if lead.can_move_to(Lead.State.CONTACTED):
            lead_transition(lead=lead, to_state=Lead.State.CONTACTED, actor=PIPELINE)
        audit_record(
            actor=PIPELINE,
            action="message.sent",
            obj=message,
            before={"status": Message.Status.SENDING},
            after={"status": message.status, "provider_message_id": message.provider_message_id},
        )
    return message


def _back_to_review(message: Message, reason: str, *, action: str) -> Message:
    message.status = Message.Status.PENDING_REVIEW
    message.approved_hash = ""
    message.last_error = reason
    message.save(update_fields=["status", "approved_hash", "last_error", "updated_at"])
    audit_record(actor=PIPELINE, action=action, obj=message, after={"status": message.status, "reason": reason})
    return message


def _whatsapp_window_open(lead_id: int) -> bool:
    since = timezone.now() - WHATSAPP_WINDOW
    return InboundMessage.objects.filter(lead_id=lead_id, channel=Channel.WHATSAPP, received_at__gte=since).exists()


def _retry_later(*, message_id: int, error: str) -> bool:
    """Back to `approved`, with a send scheduled after a growing delay; False once the attempts are used up."""
    from django_q.models import Schedule

    with transaction.atomic():
        message = _locked_message(message_id)
        if message.status != Message.Status.SENDING or message.send_attempts >= SEND_MAX_ATTEMPTS:
            return False
        delay = SEND_RETRY_BASE_SECONDS * 2 ** (message.send_attempts - 1)
        message.status = Message.Status.APPROVED
        message.last_error = f"{error} (retry {message.send_attempts} of {SEND_MAX_ATTEMPTS - 1} in {delay} s)"
        message.save(update_fields=["status", "last_error", "updated_at"])
        Schedule.objects.create(
            name=f"send_message-{message_id}-retry-{message.send_attempts}",
            func="messaging.tasks.send_message",
            args=repr((message_id,)),
            schedule_type=Schedule.ONCE,
            repeats=1,
            next_run=timezone.now() + timedelta(seconds=delay),
        )
        audit_record(actor=PIPELINE, action="message.send_retry_scheduled", obj=message,
                     after={"error": error[:500], "delay_seconds": delay})  # fmt: skip
    return True


def _record_send_failure(*, message_id: int, error: str, permanent: bool) -> None:
    with transaction.atomic():
        message = _locked_message(message_id)
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


# --- Suppression (unsubscribes, STOP, bounces, complaints) ---

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_WORDS = {"START", "UNSTOP", "YES", "SUBSCRIBE"}
# Reasons the person asked for; a bounce or a complaint is not undone by START.
OPT_OUT_REASONS = {Suppression.Reason.UNSUBSCRIBED, Suppression.Reason.STOP}


def suppression_address(address: str) -> str:
    """The form addresses are suppressed in: lower-cased email, or E.164 phone (`whatsapp:` stripped)."""
    address = address.strip()
    if "@" in address:
        return address.lower()
    try:
        return normalize_phone(address)
    except InvalidPhone:
        return address


def is_suppressed(address: str) -> Suppression | None:
    return Suppression.objects.filter(address=suppression_address(address)).first()


def suppression_add(*, address: str, reason: str, source: str, actor: str, payload: dict | None = None) -> Suppression:
    """Stop writing to an address (idempotent). An opt-out or complaint also marks the person's leads unsubscribed."""
    key = suppression_address(address)
    with transaction.atomic():
        suppression, created = Suppression.objects.get_or_create(
            address=key, defaults={"reason": reason, "source": source[:200], "payload": payload or {}}
        )
        if created:
            audit_record(
                actor=actor, action="suppression.add", obj=suppression, after={"reason": reason, "source": source}
            )
        if reason in {*OPT_OUT_REASONS, Suppression.Reason.COMPLAINED}:
            for lead in _leads_at(key):
                if lead.can_move_to(Lead.State.UNSUBSCRIBED):
                    lead_transition(lead=lead, to_state=Lead.State.UNSUBSCRIBED, actor=actor)
    return suppression


def suppression_remove(*, address: str, source: str, actor: str) -> bool:
    """The person opted back in (START): lift an opt-out they made. Bounces and complaints stay."""
    key = suppression_address(address)
    with transaction.atomic():
        suppression = Suppression.objects.select_for_update().filter(address=key, reason__in=OPT_OUT_REASONS).first()
        if suppression is None:
            return False
        audit_record(actor=actor, action="suppression.remove", obj=suppression,
                     before={"reason": suppression.reason}, after={"source": source})  # fmt: skip
        suppression.delete()
        for lead in _leads_at(key).filter(state=Lead.State.UNSUBSCRIBED):
            lead_transition(lead=lead, to_state=Lead.State.CONTACTED, actor=actor)
    return True


def _leads_at(address: str):
    lookup = {"email__iexact": address} if "@" in address else {"phone": address}
    return Lead.objects.select_for_update().filter(**lookup)


def inbound_text_receive(*, channel: str, sender: str, body: str, provider_message_id: str, name: str,
                         raw_payload: dict) -> str:  # fmt: skip
    """An SMS or WhatsApp message: STOP words opt out, START words opt back in (only when opted out), anything
    else is a lead's message (new lead, attached, or a reply). Returns what happened."""
    keyword = body.strip().upper().rstrip(".!")
    actor = f"{channel}:{sender}"
    if keyword in STOP_WORDS:
        suppression_add(address=sender, reason=Suppression.Reason.STOP, source=f"twilio:{provider_message_id}",
                        actor=actor, payload=raw_payload)  # fmt: skip
        return "opted_out"
    if keyword in START_WORDS and suppression_remove(
        address=sender, source=f"twilio:{provider_message_id}", actor=actor
    ):
        return "opted_in"
    lead = lead_ingest(
        data=LeadInput(name=name, phone=sender, message=body, source=channel),
        channel=channel, actor=actor, raw_payload=raw_payload, provider_message_id=provider_message_id,
    )  # fmt: skip
    return lead.ingest_outcome


# --- Delivery and engagement events ---


def delivery_event_record(
    *,
    message: Message,
    event_type: str,
    provider: str,
    provider_event_id: str,
    occurred_at,
    payload: dict,
    is_machine: bool = False,
    machine_reason: str = "",
) -> DeliveryEvent | None:
    """Record a provider's event once (a replayed event id is ignored: None). `delivered` moves a sent message on."""
    try:
        with transaction.atomic():
            event = DeliveryEvent.objects.create(
                message=message, event_type=event_type, provider=provider, provider_event_id=provider_event_id[:255],
                occurred_at=occurred_at or timezone.now(), payload=payload, is_machine=is_machine,
                machine_reason=machine_reason[:200],
            )  # fmt: skip
            if event_type == "delivered":
                Message.objects.filter(pk=message.pk, status=Message.Status.SENT).update(
                    status=Message.Status.DELIVERED, updated_at=timezone.now()
                )
    except IntegrityError:
        return None
    return event


# Twilio's message statuses as our event types.
TWILIO_EVENTS = {"delivered": "delivered", "read": "opened", "undelivered": "bounced", "failed": "failed",
                 "sent": "provider_sent", "queued": "queued", "accepted": "queued", "sending": "sending"}  # fmt: skip


def twilio_status_receive(*, params: dict[str, str]) -> DeliveryEvent | None:
    """A Twilio status callback: an event on the message with that SID (unknown SIDs are ignored)."""
    sid, status = params.get("MessageSid") or params.get("SmsSid", ""), params.get("MessageStatus", "")
    message = Message.objects.filter(provider_message_id=sid).first() if sid else None
    if message is None or not status:
        return None
    code = params.get("ErrorCode", "")
    if code in TWILIO_SUPPRESS_CODES:
        suppression_add(address=message.to_address, reason=TWILIO_SUPPRESS_CODES[code], source=f"twilio:{sid}:{code}",
                        actor="twilio", payload=params)  # fmt: skip
    return delivery_event_record(
        message=message, event_type=TWILIO_EVENTS.get(status, status), provider="twilio",
        provider_event_id=f"{sid}:{status}", occurred_at=timezone.now(), payload=params,
    )  # fmt: skip


# Email engagement: what people did, told apart from what machines did (kept, flagged, never counted or acted on).
SCANNER_USER_AGENTS = re.compile(
    r"barracuda|mimecast|proofpoint|symantec|messagelabs|trend ?micro|fireeye|forcepoint|safelinks|"
    r"microsoft office|ms-office|bingpreview|googleimageproxy.*scan|python-requests|curl/|wget/|go-http-client|"
    r"headlesschrome|phantomjs|urlscan|virustotal|cisco|zscaler|sophos|checkpoint|appriver|avanan",
    re.IGNORECASE,
)
SCANNER_CLICK_SECONDS = 10  # a click this soon after delivery is a link scanner, not a reader
LINK_BURST_SECONDS = 2  # several different links clicked within this is a scanner following every link
EMAIL_EVENT_SUPPRESSES = {"bounced": Suppression.Reason.BOUNCED, "complained": Suppression.Reason.COMPLAINED,
                          "unsubscribed": Suppression.Reason.UNSUBSCRIBED}  # fmt: skip


def email_event_receive(*, event, esp_name: str) -> DeliveryEvent | None:
    """An anymail tracking event (delivered, opened, clicked, bounced, ...) on the message it belongs to."""
    message = _message_for_email_event(event)
    if message is None:
        return None
    event_type = str(event.event_type)
    occurred_at = event.timestamp or timezone.now()
    is_machine, reason = _machine_engagement(message, event_type, event, occurred_at)
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    event_id = (
        event.event_id
        or hashlib.sha256(
            f"{event_type}|{event.message_id}|{occurred_at.isoformat()}|{event.click_url or ''}".encode()
        ).hexdigest()
    )
    recorded = delivery_event_record(
        message=message, event_type=event_type, provider=esp_name.lower(), provider_event_id=str(event_id),
        occurred_at=occurred_at,
        payload={"recipient": event.recipient, "url": event.click_url, "user_agent": event.user_agent,
                 "reject_reason": event.reject_reason, "mta_response": event.mta_response, "esp_event": raw},
        is_machine=is_machine, machine_reason=reason,
    )  # fmt: skip
    if recorded is not None and event_type == "clicked" and not is_machine:
        _flag_link_burst(recorded)
    suppress = EMAIL_EVENT_SUPPRESSES.get(event_type)
    if event_type == "rejected" and str(event.reject_reason) in {"bounced", "invalid"}:
        suppress = Suppression.Reason.BOUNCED
    if recorded is not None and suppress:
        suppression_add(address=event.recipient or message.to_address, reason=suppress,
                        source=f"{esp_name.lower()}:{event_type}", actor=f"email:{esp_name.lower()}",
                        payload={"event_id": str(event_id)})  # fmt: skip
    return recorded


def _message_for_email_event(event) -> Message | None:
    ours = (event.metadata or {}).get("bizpilot_message_id")
    if ours and str(ours).isdigit():
        message = Message.objects.filter(pk=int(ours)).first()
        if message is not None:
            return message
    if event.message_id:
        return Message.objects.filter(provider_message_id=str(event.message_id)).first()
    return None


def _machine_engagement(message: Message, event_type: str, event, occurred_at) -> tuple[bool, str]:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    agent = event.user_agent or ""
    if event_type == "opened":
        if raw.get("sg_machine_open") in (True, "true", 1):
            return True, "the ESP flagged a machine open (e.g. Apple Mail Privacy Protection)"
        if SCANNER_USER_AGENTS.search(agent):
            return True, f"a security scanner's user agent ({agent[:80]})"
    if event_type == "clicked":
        if SCANNER_USER_AGENTS.search(agent):
            return True, f"a security scanner's user agent ({agent[:80]})"
        arrived = message.events.filter(event_type__in=["delivered", "sent"]).order_by("-occurred_at").first()
        if arrived and timedelta(0) <= occurred_at - arrived.occurred_at < timedelta(seconds=SCANNER_CLICK_SECONDS):
            return True, f"clicked {(occurred_at - arrived.occurred_at).total_seconds():.0f} s after delivery"
    return False, ""


def _flag_link_burst(click: DeliveryEvent) -> None:
    """Different links of one message clicked within seconds of each other: a scanner following every link."""
    window = timedelta(seconds=LINK_BURST_SECONDS)
    burst = DeliveryEvent.objects.filter(
        message_id=click.message_id, event_type="clicked",
        occurred_at__gte=click.occurred_at - window, occurred_at__lte=click.occurred_at + window,
    )  # fmt: skip
    urls = {e.payload.get("url") for e in burst}
    if len(urls) >= 2:
        burst.filter(is_machine=False).update(is_machine=True, machine_reason=f"{len(urls)} links clicked at once")
