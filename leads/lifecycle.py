"""A lead's way through the pipeline's states: claimed for processing, classified, drafted, contacted, unsubscribed,
converted or lost. The only code that changes a lead's state; other apps call these services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bizpilot.access import REVIEW, require_permission
from bizpilot.actors import PIPELINE
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from bizpilot.processes import process_gone, this_process
from leads.models import Lead
from leads.selectors import PROCESSING_LEASE, latest_inbound
from leads.signals import lead_received, lead_state_changed


def lead_claim_for_processing(*, lead_id: int) -> Lead | None:
    """Move a lead that still needs work to `processing`; None when there is nothing to do or another run holds it.

    A lead may be claimed in `received` (not classified yet), in `classified` (classified but not drafted, e.g. the
    draft step failed) or in `processing` when the previous claim's lease ran out or the process that held it died
    (a killed worker).
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        now = timezone.now()
        if lead.state == Lead.State.PROCESSING:
            held = lead.processing_started_at and now - lead.processing_started_at < PROCESSING_LEASE
            if held and not (lead.processing_by and process_gone(lead.processing_by)):
                return None  # another run holds it (a run whose process died is taken over at once)
        elif lead.state not in {Lead.State.RECEIVED, Lead.State.CLASSIFIED}:
            return None
        before = {"state": lead.state}
        lead.resume_state = lead.state  # not stored: tells the pipeline where to continue
        lead.state = Lead.State.PROCESSING
        lead.processing_started_at = now
        lead.processing_by = this_process()
        lead.processing_attempts += 1
        lead.save(
            update_fields=["state", "processing_started_at", "processing_by", "processing_attempts", "updated_at"]
        )
        audit_record(
            actor=PIPELINE,
            action="lead.processing",
            obj=lead,
            before=before,
            after={"state": lead.state},
        )
    return lead


def lead_record_classification(*, lead_id: int, intent: str, confidence: float, actor: str = PIPELINE) -> Lead:
    """The lead holds the intent in effect; the Classification rows (intelligence) keep the history."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        before = {"intent": lead.intent, "intent_confidence": lead.intent_confidence, "state": lead.state}
        lead.intent = intent
        lead.intent_confidence = confidence
        lead.last_error = ""
        fields = ["intent", "intent_confidence", "last_error", "updated_at"]
        if lead.state == Lead.State.PROCESSING:
            lead.state = Lead.State.CLASSIFIED
            fields.append("state")
        lead.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="lead.classify" if actor == PIPELINE else "lead.intent_corrected",
            obj=lead,
            before=before,
            after={"intent": intent, "intent_confidence": confidence, "state": lead.state},
        )
    return lead


def lead_reply_changes(*, lead_id: int, intent: str | None, state: str | None, reason: str, actor: str) -> str:
    """A lead's answer changed what we know: its intent (a warm lead that says "let's do it" becomes hot) and/or its
    stage ("we went with someone else": lost), each audited with the reason. Returns what changed ("" for nothing)."""
    changes = []
    with transaction.atomic():
        lead = _locked_lead(lead_id)
        if intent and intent != lead.intent:
            before = {"intent": lead.intent}
            changes.append(f"intent {lead.intent or 'none'} -> {intent}")
            lead.intent = intent
            lead.save(update_fields=["intent", "updated_at"])
            audit_record(
                actor=actor,
                action="lead.intent_changed",
                obj=lead,
                before=before,
                after={"intent": intent, "reason": reason},
            )
        if state and state != lead.state and lead.can_move_to(state):
            changes.append(f"stage {lead.state} -> {state}")
            lead_transition(lead=lead, to_state=state, actor=actor)
            audit_record(actor=actor, action="lead.stage_changed", obj=lead, after={"state": state, "reason": reason})
    return "; ".join(changes) + (f" ({reason})" if changes else "")


# The milestone each state sets the first time a lead reaches it.
MILESTONES: dict[str, str] = {
    Lead.State.DRAFTED: "drafted_at",
    Lead.State.CONTACTED: "contacted_at",
    Lead.State.REPLIED: "replied_at",
    Lead.State.CONVERTED: "converted_at",
}


def lead_transition(*, lead: Lead, to_state: str, actor: str) -> Lead:
    """Move a lead (already locked by the caller's transaction) to another state, or raise InvalidTransition."""
    if lead.state == to_state:
        return lead
    if not lead.can_move_to(to_state):
        raise InvalidTransition(f"A lead cannot go from {lead.state} to {to_state}.")
    before = {"state": lead.state}
    lead.state = to_state
    fields = ["state", "updated_at"]
    milestone = MILESTONES.get(to_state)
    if milestone and getattr(lead, milestone) is None:
        setattr(lead, milestone, timezone.now())
        fields.append(milestone)
    lead.save(update_fields=fields)
    audit_record(actor=actor, action=f"lead.{to_state}", obj=lead, before=before, after={"state": to_state})
    lead_state_changed.send(sender=Lead, lead_id=lead.pk, state=to_state, actor=actor)
    return lead


def lead_mark_meeting_booked(*, lead_id: int, at: datetime, actor: str) -> bool:
    """The lead booked a meeting: a funnel stage and a conversion event, set once (the first booking). Returns
    whether it was set now."""
    with transaction.atomic():
        lead = _locked_lead(lead_id)
        if lead.meeting_booked_at is not None:
            return False
        lead.meeting_booked_at = at
        lead.save(update_fields=["meeting_booked_at", "updated_at"])
        audit_record(actor=actor, action="lead.meeting_booked", obj=lead, after={"at": at.isoformat()})
    return True


def lead_mark_outcome(*, lead_id: int, outcome: str, actor: str, user: Any = None) -> Lead:
    """An operator records how a lead ended: `converted` (a customer) or `lost`."""
    require_permission(user, REVIEW, "mark leads converted or lost")
    if outcome not in (Lead.State.CONVERTED, Lead.State.LOST):
        raise ValidationFailed("Unknown outcome.", fields={"outcome": ["Must be converted or lost."]})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        return lead_transition(lead=lead, to_state=outcome, actor=actor)


def lead_retry(*, lead_id: int, actor: str) -> Lead:
    """Run the pipeline again for a lead that has not been drafted (its last attempt failed or never ran)."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        if lead.state not in {Lead.State.RECEIVED, Lead.State.CLASSIFIED, Lead.State.PROCESSING}:
            raise InvalidTransition(f"Lead {lead_id} is {lead.state}; only leads not yet drafted can be retried.")
        if not lead.auto_process:  # an imported lead an operator chose to process
            lead.auto_process = True
            lead.save(update_fields=["auto_process", "updated_at"])
        audit_record(actor=actor, action="lead.retry", obj=lead, after={"state": lead.state})
        inbound = latest_inbound(lead_id=lead.pk)
        transaction.on_commit(
            lambda: lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk if inbound else None)
        )
    return lead


def lead_record_failure(*, lead_id: int, error: str) -> Lead:
    """A pipeline step failed: keep the error and put the lead back where a retry picks it up."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        before = {"state": lead.state}
        lead.last_error = error[:5000]
        lead.last_error_at = timezone.now()
        if lead.state == Lead.State.PROCESSING:
            lead.state = Lead.State.CLASSIFIED if lead.intent else Lead.State.RECEIVED
        lead.processing_started_at = None
        lead.save(update_fields=["last_error", "last_error_at", "state", "processing_started_at", "updated_at"])
        audit_record(
            actor=PIPELINE,
            action="lead.processing_failed",
            obj=lead,
            before=before,
            after={"state": lead.state, "error": lead.last_error[:500]},
        )
    return lead


def lead_mark_drafted(*, lead_id: int, actor: str = PIPELINE) -> Lead:
    """A draft reply was stored for the lead: its processing is over. Call it inside the transaction that stores
    the draft, so both happen or neither. Returns the locked lead, whose contact details the draft is sent to."""
    return _end_processing(lead_id=lead_id, to_state=Lead.State.DRAFTED, actor=actor)


def lead_close_without_reply(*, lead_id: int, reason: str, actor: str = PIPELINE) -> Lead:
    """The pipeline will not answer this lead (a phishing or payment scam): its processing ends and it is `lost`,
    with the reason in the audit trail. An operator can still read it in the admin."""
    with transaction.atomic():
        lead = _end_processing(lead_id=lead_id, to_state=Lead.State.LOST, actor=actor)
        audit_record(actor=actor, action="lead.closed_without_reply", obj=lead, after={"reason": reason})
    return lead


def _end_processing(*, lead_id: int, to_state: str, actor: str) -> Lead:
    """The lead's processing is over (clear its lease and last error) and it moves to `to_state`; locked."""
    with transaction.atomic():
        lead = _locked_lead(lead_id)
        lead.processing_started_at = None
        lead.last_error = ""
        lead.save(update_fields=["processing_started_at", "last_error", "updated_at"])
        lead_transition(lead=lead, to_state=to_state, actor=actor)
    return lead


def lead_mark_contacted(*, lead_id: int, actor: str = PIPELINE) -> Lead:
    """A reply to the lead went out: a lead not contacted before becomes `contacted`; later states stay."""
    with transaction.atomic():
        lead = _locked_lead(lead_id)
        if lead.can_move_to(Lead.State.CONTACTED):
            lead_transition(lead=lead, to_state=Lead.State.CONTACTED, actor=actor)
        if lead.contacted_at is None:  # e.g. converted by phone before our first message went out
            lead.contacted_at = timezone.now()
            lead.save(update_fields=["contacted_at", "updated_at"])
    return lead


def leads_unsubscribe(*, address: str, actor: str) -> int:
    """The person at `address` (a lower-cased email or an E.164 phone) opted out or complained: each of their leads
    that can becomes `unsubscribed`. Returns how many did."""
    moved = 0
    with transaction.atomic():
        for lead in _leads_at(address):
            if lead.can_move_to(Lead.State.UNSUBSCRIBED):
                lead_transition(lead=lead, to_state=Lead.State.UNSUBSCRIBED, actor=actor)
                moved += 1
    return moved


def leads_resubscribe(*, address: str, actor: str) -> int:
    """The person at `address` opted back in: their unsubscribed leads return to `contacted`. Returns how many."""
    moved = 0
    with transaction.atomic():
        for lead in _leads_at(address).filter(state=Lead.State.UNSUBSCRIBED):
            lead_transition(lead=lead, to_state=Lead.State.CONTACTED, actor=actor)
            moved += 1
    return moved


def _leads_at(address: str) -> QuerySet[Lead]:
    lookup: dict[str, Any] = {"email__iexact": address} if "@" in address else {"phone": address}
    return Lead.objects.select_for_update().filter(**lookup).order_by("pk")


def _locked_lead(lead_id: int) -> Lead:
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    return lead
