"""The pipeline: a lead in, a draft reply stored, the send policy applied. It orchestrates: leads claims the lead,
intelligence classifies and drafts (plain results), this module stores the Message and hands it to the auto-send
policy. Every model call happens before the short transaction that writes."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from bizpilot import jobs
from bizpilot.actors import PIPELINE
from bizpilot.audit import audit_record
from intelligence.classification import LeadClassification, lead_classify
from intelligence.drafting import ReplyDraft, reply_draft
from intelligence.models import SenderKind
from leads.lifecycle import (
    lead_claim_for_processing,
    lead_close_without_reply,
    lead_mark_drafted,
    lead_record_failure,
)
from leads.models import Channel, Intent, Lead
from leads.selectors import latest_inbound, leads_left_behind
from meetings.offers import meeting_offer_prepare, slot_offer_record
from messaging.autosend import message_apply_send_policy
from messaging.experiments import experiment_variant_for_lead, lead_in_holdout
from messaging.models import Message, SenderRoute, review_rank
from messaging.routes import enqueue_forward, routed_draft, sender_route
from messaging.signals import lead_classified, turn_drafted

log = structlog.get_logger(__name__)


def lead_process(*, lead_id: int) -> Message | None:
    """Classify a lead's latest inbound message and draft a reply. Idempotent: a lead already drafted (or held by a
    concurrent run) is left alone; a failure records its error on the lead, which stays retryable, and re-raises."""
    lead = lead_claim_for_processing(lead_id=lead_id)
    if lead is None:
        return None
    try:
        inbound = latest_inbound(lead_id=lead.pk)
        if inbound is None:
            raise RuntimeError("the lead has no inbound message to answer")
        classified = lead_classify(
            lead_id=lead.pk, inbound_id=inbound.pk, reuse_latest=lead.resume_state == Lead.State.CLASSIFIED
        )
        lead_classified.send(
            sender=Lead,
            lead_id=lead.pk,
            inbound_id=inbound.pk,
            classification_id=classified.classification_id,
            intent=classified.intent,
            confidence=classified.confidence,
            previous_intent=lead.intent,
        )
        if classified.is_scam:
            # Phishing and payment scams get no draft at all: nothing to review, nothing that could be sent.
            lead_close_without_reply(lead_id=lead.pk, reason="phishing or payment scam: no reply drafted")
            return None
        # A route's own answer only when the reading of who wrote is sure; else a draft as for a prospect, flagged.
        sure = classified.kind_probability >= settings.SENDER_ROUTE_MIN_PROBABILITY
        route = sender_route(classified.kind) if classified.kind != SenderKind.PROSPECT and sure else None
        if route is not None and route.action == SenderRoute.Action.NO_REPLY:
            reason = f"{SenderKind(classified.kind).label.lower()}: no reply (the business's answer for this sender)"
            lead_close_without_reply(lead_id=lead.pk, reason=reason)
            return None
        if route is not None and route.action in (SenderRoute.Action.TEMPLATE, SenderRoute.Action.FORWARD):
            # Who wrote decides the answer: the route's own text, not a sales reply.
            draft = routed_draft(
                route=route,
                lead_id=lead.pk,
                inbound_id=inbound.pk,
                classification_id=classified.classification_id,
                intent=classified.intent,
                channel=lead.preferred_channel,
                confidence=classified.confidence,
            )
            with transaction.atomic():
                message = message_store_draft(lead_id=lead.pk, draft=draft)
                enqueue_forward(route=route, inbound_id=inbound.pk)
            return _apply_policy(message, lead_id)
        if lead_in_holdout(lead_id=lead.pk):
            # The manual baseline the lift is measured against: a person writes this reply, from nothing.
            message = message_store_draft(lead_id=lead.pk, draft=holdout_draft(inbound.pk, classified))
            _tell_drafted(message, classified.intent)
            return message
        variant = experiment_variant_for_lead(lead_id=lead.pk)
        # A hot lead is offered times from the calendar (or the booking link) instead of being asked for times.
        offer = (
            meeting_offer_prepare(
                lead_id=lead.pk, language=classified.language, text_message=lead.preferred_channel != Channel.EMAIL
            )
            if classified.intent == Intent.HOT
            else None
        )
        draft = reply_draft(
            lead_id=lead.pk,
            inbound_id=inbound.pk,
            classification_id=classified.classification_id,
            channel=lead.preferred_channel,
            prompt_template_id=variant.prompt_template_id if variant else None,
            meeting=offer.text if offer else "",
        )
        with transaction.atomic():
            message = message_store_draft(lead_id=lead.pk, draft=draft, variant_id=variant.pk if variant else None)
            if offer is not None and message.in_reply_to_id == inbound.pk:
                slot_offer_record(lead_id=lead.pk, message_id=message.pk, offer=offer)
    except Exception as exc:
        lead_record_failure(lead_id=lead_id, error=f"{type(exc).__name__}: {exc}")
        raise
    message = _apply_policy(message, lead_id)
    _tell_drafted(message, classified.intent)
    return message


def _tell_drafted(message: Message, intent: str) -> None:
    """A prospect's first reply is drafted: alerts (a hot lead reaches a person at once) and integrations hear."""
    turn_drafted.send(
        sender=Message,
        lead_id=message.lead_id,
        inbound_id=message.in_reply_to_id,
        message_id=message.pk,
        intent=intent,
        kind="lead",
    )


def _apply_policy(message: Message, lead_id: int) -> Message:
    if message.status == Message.Status.PENDING_REVIEW and not message.auto_send_decision:
        message = message_apply_send_policy(message_id=message.pk)
    log.info(
        "lead.drafted",
        lead_id=lead_id,
        message_id=message.pk,
        generated_by=message.generated_by,
        status=message.status,
        variant_id=message.experiment_variant_id,
    )
    return message


def holdout_draft(inbound_id: int, classified: LeadClassification) -> ReplyDraft:
    """No draft: an empty reply for a person to write (never auto-sent: it has a failed check and confidence 0)."""
    return ReplyDraft(
        inbound_id=inbound_id,
        classification_id=classified.classification_id,
        intent=classified.intent,
        subject="",
        body="",
        generated_by=Message.GeneratedBy.HOLDOUT,
        reason="holdout: this lead gets the business's own reply, to measure the lift of AI replies",
        template_name="holdout",
        prompt_template_id=None,
        confidence=0.0,
        checks_failed=["holdout lead: write this reply yourself (no AI draft, no follow-ups)"],
        injection_signals=[],
        model_call_id=None,
    )


def message_store_draft(*, lead_id: int, draft: ReplyDraft, variant_id: int | None = None) -> Message:
    """Store a draft as the reply to its inbound message and move the lead to `drafted`, in one transaction. One
    draft per inbound message: when another run stored one first, that one is returned."""
    try:
        with transaction.atomic():
            lead = lead_mark_drafted(lead_id=lead_id, actor=PIPELINE)
            # The recipient and channel come from the lead in the database, never from the model's output.
            to_address = lead.email if lead.preferred_channel == Channel.EMAIL else lead.phone
            message = Message.objects.create(
                lead_id=lead.pk,
                in_reply_to_id=draft.inbound_id,
                classification_id=draft.classification_id,
                channel=lead.preferred_channel,
                to_address=to_address,
                original_subject=draft.subject,
                original_body=draft.body,
                subject=draft.subject,
                body=draft.body,
                generated_by=draft.generated_by,
                generation_reason=draft.reason,
                template_name=draft.template_name,
                prompt_template_id=draft.prompt_template_id,
                draft_confidence=draft.confidence,
                checks_failed=draft.checks_failed,
                injection_signals=draft.injection_signals,
                model_call_id=draft.model_call_id,
                experiment_variant_id=variant_id,
                review_rank=review_rank(draft.intent),
            )
            audit_record(
                actor=PIPELINE,
                action="message.draft",
                obj=message,
                after={"status": message.status, "generated_by": message.generated_by, "reason": draft.reason},
            )
    except IntegrityError:
        # Another run drafted this inbound message first; one draft per inbound message.
        return Message.objects.get(in_reply_to_id=draft.inbound_id)
    return message


def leads_requeue_stalled(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Safety net run on a schedule: enqueue leads whose job was never run or died (nothing accepted is lost)."""
    stalled = leads_left_behind(older_than=older_than)
    for lead_id in stalled:
        enqueue_process_lead(lead_id)
    return len(stalled)


def enqueue_process_lead(lead_id: int) -> None:
    jobs.enqueue_on_commit("messaging.tasks.process_lead", lead_id, task_name=f"process_lead-{lead_id}", queue=jobs.LLM)
