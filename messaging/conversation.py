"""Conversations: every message from a known lead is a turn. It is read in the context of the whole thread (what
kind of reply it is: intelligence.replies), it updates the lead's intent and stage when it changes them (audited,
with the reason), and it is answered by a draft that goes through the same review queue, checks and auto-send
policy as a first reply. Or it gets a stated reason why not: an auto-reply, a request to stop, an erased or
unsubscribed lead.

Several messages written in a row get one draft that answers them all: a turn answers every message the lead wrote
since our last message went out, and a later turn redrafts the answer still waiting for review instead of adding a
second one. Drafting happens outside any transaction; the write locks the lead and checks that no newer message
arrived meanwhile (the newer message's own turn answers them all then)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from bizpilot import jobs
from bizpilot.audit import audit_record
from intelligence.drafting import reply_draft
from intelligence.models import ReplyClassification
from intelligence.replies import ReplyKind, ReplyReading, reply_read
from intelligence.reply_drafting import reply_answer_draft
from leads.lifecycle import lead_reply_changes
from leads.models import Channel, InboundMessage, Intent, Lead
from meetings.conversation import MeetingTurn, meeting_turn_take
from meetings.offers import slot_offer_record
from messaging.autosend import message_apply_send_policy
from messaging.models import LeadSequenceStep, Message, Suppression, review_rank
from messaging.review import message_take_draft
from messaging.sequences import conversation_text
from messaging.signals import turn_drafted
from messaging.suppression import suppression_add

log = structlog.get_logger(__name__)
CONVERSATION = "system:conversation"

# What a kind of reply changes: the lead's intent (None: as it is) and stage (None: as it is), and why.
_HOT_ON: dict[str, str] = {ReplyKind.YES: "the lead said yes", ReplyKind.MEETING: "the lead asked to meet"}
_LOST_ON: dict[str, str] = {ReplyKind.NO: "the lead said no", ReplyKind.WRONG_PERSON: "the wrong person"}
_WARM_ON = {
    ReplyKind.QUESTION,
    ReplyKind.OBJECTION_PRICE,
    ReplyKind.OBJECTION_COMPETITOR,
    ReplyKind.OBJECTION_AUTHORITY,
    ReplyKind.REFERRAL,
}
# States in which a lead's message is no reply to answer (with the reason given).
_NO_ANSWER_STATES: dict[str, str] = {Lead.State.UNSUBSCRIBED: "the lead unsubscribed: nothing may be sent to them"}


@dataclass(frozen=True)
class Turn:
    """The messages a turn answers (oldest first) and the reading of them together."""

    inbound: list[InboundMessage]
    reading: ReplyReading

    @property
    def latest(self) -> InboundMessage:
        return self.inbound[-1]


def enqueue_reply_turn(lead_id: int, inbound_id: int) -> None:
    jobs.enqueue_on_commit(
        "messaging.tasks.process_reply", lead_id, task_name=f"process_reply-{lead_id}-{inbound_id}", queue=jobs.LLM
    )


def unanswered_messages(*, lead_id: int) -> list[InboundMessage]:
    """What the lead wrote since our last message went out, oldest first (none before we first wrote to them:
    the first reply answers those)."""
    last_sent = Message.objects.filter(lead_id=lead_id, sent_at__isnull=False).aggregate(at=Max("sent_at"))["at"]
    if last_sent is None:
        return []
    return list(InboundMessage.objects.filter(lead_id=lead_id, received_at__gt=last_sent).order_by("received_at", "id"))


def reply_turn_process(*, lead_id: int) -> Message | None:
    """Take the lead's turn: read what they wrote since our last message, update their intent and stage, and draft
    one answer to all of it (or record why not). Idempotent: a turn already taken for the newest message returns
    its draft. Returns the draft, or None."""
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None or lead.erased_at is not None:
        return None
    unanswered = unanswered_messages(lead_id=lead_id)
    people = [m for m in unanswered if not m.is_automated]
    if not people:
        # Nothing new since our last message, or only auto-replies (their turn is taken at ingest), or we have not
        # written yet: then the first reply, while it waits for review, answers this message too.
        return first_reply_redraft(lead_id=lead_id)
    latest = people[-1]
    done = ReplyClassification.objects.filter(inbound_id=latest.pk).exists()
    if done:
        return Message.objects.filter(in_reply_to_id=latest.pk).first()
    subject = next((m.subject for m in reversed(people) if m.subject), "")
    turn = Turn(people, reply_read(text="\n\n".join(m.body for m in people if m.body.strip()), subject=subject))
    why_not = _no_answer_because(lead, turn)
    change = _apply_changes(lead_id=lead_id, turn=turn)
    if why_not:
        _record(lead_id=lead_id, turn=turn, change=change, outcome=f"no answer drafted: {why_not}")
        log.info("reply.no_answer", lead_id=lead_id, kind=turn.reading.kind, reason=why_not)
        return None
    lead.refresh_from_db()
    channel = _answer_channel(lead, turn.latest)
    meeting = _meeting_turn(lead_id, turn)
    draft = reply_answer_draft(
        lead_id=lead_id,
        inbound_id=turn.latest.pk,
        text=turn.reading.text,
        subject=subject,
        kind=turn.reading.kind,
        also=turn.reading.also,
        intent=lead.intent or Intent.WARM,
        channel=channel,
        conversation=conversation_text(lead_id=lead_id),
        meeting=meeting.note if meeting else "",
    )
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        newest = [m for m in unanswered_messages(lead_id=lead_id) if not m.is_automated]
        if not newest or newest[-1].pk != turn.latest.pk:
            return None  # the lead wrote again meanwhile: that message's turn answers everything
        to_address = lead.email if channel == Channel.EMAIL else lead.phone
        message = _pending_answer(lead_id)
        if message is not None and message.edit_size:
            message = None  # a person is working on that answer: leave it, and draft this turn's own
        fields = {
            "in_reply_to_id": turn.latest.pk,
            "classification_id": draft.classification_id,
            "channel": channel,
            "to_address": to_address,
            "original_subject": draft.subject,
            "original_body": draft.body,
            "subject": draft.subject,
            "body": draft.body,
            "generated_by": draft.generated_by,
            "generation_reason": draft.reason,
            "template_name": f"reply:{turn.reading.kind}:{draft.template_name}",
            "prompt_template_id": draft.prompt_template_id,
            "draft_confidence": round(draft.confidence * turn.reading.confidence, 4),
            "checks_failed": draft.checks_failed,
            "injection_signals": draft.injection_signals,
            "model_call_id": draft.model_call_id,
            "review_rank": review_rank(lead.intent),
            "reply_kind": turn.reading.kind,
            "answers": [m.pk for m in turn.inbound],
            "auto_send_decision": "",
            "approved_hash": "",
            "edit_size": 0,
            "calendar_invite": meeting.invite if meeting and channel == Channel.EMAIL else "",
        }
        if message is None:
            message = Message.objects.create(lead_id=lead_id, **fields)
            action, before = "message.draft_answer", {}
        else:
            before = {"subject": message.subject, "body": message.body, "answers": message.answers}
            previous = message.auto_send_decision
            for name, value in fields.items():
                setattr(message, name, value)
            # The lead wrote again before it was sent: one draft answers all, and a person looks at it.
            message.auto_send_decision = _held(previous, turn.latest.pk)
            message.save()
            action = "message.redraft_answer"
        audit_record(
            actor=CONVERSATION,
            action=action,
            obj=message,
            before=before,
            after={"reply_kind": message.reply_kind, "answers": message.answers, "generated_by": draft.generated_by},
        )
        if meeting is not None and meeting.offer is not None:
            slot_offer_record(lead_id=lead_id, message_id=message.pk, offer=meeting.offer)
        outcome = f"answer drafted: message #{message.pk}" + (f"; meeting {meeting.outcome}" if meeting else "")
        _record(lead_id=lead_id, turn=turn, change=change, outcome=outcome)
    message = message_apply_send_policy(message_id=message.pk)
    log.info("reply.drafted", lead_id=lead_id, message_id=message.pk, kind=turn.reading.kind, status=message.status)
    turn_drafted.send(
        sender=Message,
        lead_id=lead_id,
        inbound_id=turn.latest.pk,
        message_id=message.pk,
        intent=Lead.objects.values_list("intent", flat=True).get(pk=lead_id),
        kind="meeting" if turn.reading.kind == ReplyKind.MEETING else "reply",
    )
    return message


def _meeting_turn(lead_id: int, turn: Turn) -> MeetingTurn | None:
    """Act on what the lead wrote about a meeting: their latest message first (it may move what an earlier one
    booked), else everything the turn answers."""
    asks = ReplyKind.MEETING in (turn.reading.kind, *turn.reading.also)
    language = _language_of(lead_id, turn.reading.text)
    texts = [turn.latest.body] + ([turn.reading.text] if len(turn.inbound) > 1 else [])
    for text in texts:
        done = meeting_turn_take(
            lead_id=lead_id, text=text, inbound_id=turn.latest.pk, language=language, asks_to_meet=asks
        )
        if done is not None:
            return done
    return None


def _language_of(lead_id: int, text: str) -> str:
    """The language the lead writes in: this reply's, else their first message's."""
    from intelligence.language import detect_language
    from intelligence.models import Classification

    detected = detect_language(text).code
    if detected:
        return detected
    first = Classification.objects.filter(lead_id=lead_id).order_by("-created_at").values_list("language", flat=True)
    return first.first() or "en"


def first_reply_redraft(*, lead_id: int) -> Message | None:
    """The lead wrote again before our first reply went out: the first reply, while it waits for review and no
    person has edited it, is drafted again to answer every message so far (one draft, not two). An edited draft
    stays as the person left it; the review screen flags the newer message."""
    pending = (
        Message.objects.filter(
            lead_id=lead_id, status=Message.Status.PENDING_REVIEW, reply_kind="", in_reply_to__isnull=False
        )
        .exclude(generated_by__in=[Message.GeneratedBy.HOLDOUT, Message.GeneratedBy.PERSON])
        .select_related("in_reply_to", "experiment_variant")
        .first()
    )
    if pending is None or pending.edit_size or pending.in_reply_to is None:
        return None
    first = pending.in_reply_to
    newer = list(
        InboundMessage.objects.filter(lead_id=lead_id, received_at__gt=first.received_at)
        .exclude(automated_reason__gt="")
        .order_by("received_at", "id")
    )
    if not newer:
        return None
    messages = [first, *newer]
    variant = pending.experiment_variant
    draft = reply_draft(
        lead_id=lead_id,
        inbound_id=newer[-1].pk,
        classification_id=pending.classification_id,
        channel=pending.channel,
        prompt_template_id=variant.prompt_template_id if variant else None,
        message_text="\n\n".join(m.body for m in messages if m.body.strip()),
    )
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=pending.pk)
        latest = (
            InboundMessage.objects.filter(lead_id=lead_id)
            .exclude(automated_reason__gt="")
            .order_by("-received_at", "-id")
        ).first()
        if message.status != Message.Status.PENDING_REVIEW or message.edit_size or latest != newer[-1]:
            return None  # reviewed, edited or overtaken meanwhile
        before = {"subject": message.subject, "body": message.body, "answers": message.answers}
        message.in_reply_to_id = newer[-1].pk
        message.answers = [m.pk for m in messages]
        previous = message.auto_send_decision
        message_take_draft(message, draft)
        # The conversation moved while it waited: a person looks at the new text (never sent on its own).
        message.auto_send_decision = _held(previous, newer[-1].pk)
        message.save()
        audit_record(
            actor=CONVERSATION,
            action="message.redraft_answer",
            obj=message,
            before=before,
            after={"answers": message.answers, "generated_by": draft.generated_by},
        )
    return message


def _held(previous: str, inbound_id: int) -> str:
    """The auto-send decision of a draft redrafted because the lead wrote again: what was decided before, then held."""
    held = f"held for review: the lead wrote again (#{inbound_id}); redrafted to answer every message"
    return f"{previous}; {held}" if previous else held


def _no_answer_because(lead: Lead, turn: Turn) -> str:
    if lead.state in _NO_ANSWER_STATES:
        return _NO_ANSWER_STATES[lead.state]
    if turn.reading.kind == ReplyKind.STOP:
        return "the lead asked us to stop; their addresses are on the suppression list"
    return _sender_route_because(lead, turn)


def _sender_route_because(lead: Lead, turn: Turn) -> str:
    """A sender the business answers its own way (Answers per kind of sender) writes again: a support customer's
    message goes to the support route again, a vendor or a job seeker who already had their answer gets none."""
    from intelligence.classification import kind_probability
    from intelligence.models import Classification, SenderKind
    from messaging.models import SenderRoute
    from messaging.routes import enqueue_forward, sender_route

    classification = Classification.objects.filter(lead_id=lead.pk).order_by("-created_at", "-id").first()
    if classification is None or classification.kind == SenderKind.PROSPECT:
        return ""
    if kind_probability(classification) < settings.SENDER_ROUTE_MIN_PROBABILITY:
        return ""
    route = sender_route(classification.kind)
    who = SenderKind(classification.kind).label.lower()
    if route.action == SenderRoute.Action.FORWARD and route.forward_to:
        for message in turn.inbound:
            enqueue_forward(route=route, inbound_id=message.pk)
        return f"{who}: forwarded to {route.forward_to}, the business's route for this sender"
    if route.action in (SenderRoute.Action.TEMPLATE, SenderRoute.Action.NO_REPLY):
        return f"{who}: the business's answer for this sender was given already; no sales answer"
    return ""


def _apply_changes(*, lead_id: int, turn: Turn) -> str:
    """What the reply changes, audited with the reason: a request to stop suppresses every address of the lead; a
    yes or a request to meet makes the lead hot; a no or a wrong person marks it lost; a question or an objection
    makes a cold lead warm; "not now" cools a hot lead to warm."""
    kind = turn.reading.kind
    lead = Lead.objects.get(pk=lead_id)
    if kind == ReplyKind.STOP:
        for address in (lead.email, lead.phone):
            if address:
                suppression_add(
                    address=address,
                    reason=Suppression.Reason.UNSUBSCRIBED,
                    source=f"reply:{turn.latest.pk}",
                    actor=CONVERSATION,
                )
        return "unsubscribed (the lead asked us to stop)"
    intent, state, reason = None, None, ""
    if kind in _HOT_ON:
        intent, reason = Intent.HOT, _HOT_ON[kind]
    elif kind in _LOST_ON:
        state, reason = Lead.State.LOST, _LOST_ON[kind]
    elif kind in _WARM_ON and lead.intent == Intent.COLD:
        intent, reason = Intent.WARM, f"a cold lead wrote back ({ReplyKind(kind).label.lower()})"
    elif kind == ReplyKind.OBJECTION_TIMING and lead.intent == Intent.HOT:
        intent, reason = Intent.WARM, "the lead said it is not the right time"
    if intent is None and state is None:
        return ""
    return lead_reply_changes(
        lead_id=lead_id, intent=intent, state=state, reason=f"{reason}: {turn.reading.text[:120]!r}", actor=CONVERSATION
    )


def _answer_channel(lead: Lead, latest: InboundMessage) -> str:
    """Answer on the channel the lead last wrote on, when we can reach them there."""
    if latest.channel in (Channel.SMS, Channel.WHATSAPP) and lead.phone:
        return latest.channel
    if latest.channel == Channel.EMAIL and lead.email:
        return Channel.EMAIL
    return lead.preferred_channel


def _pending_answer(lead_id: int) -> Message | None:
    """An answer to an earlier reply still waiting for review (not a person's own message, not a follow-up)."""
    return (
        Message.objects.select_for_update()
        .filter(lead_id=lead_id, status=Message.Status.PENDING_REVIEW)
        .exclude(reply_kind="")
        .exclude(generated_by=Message.GeneratedBy.PERSON)
        .order_by("-created_at")
        .first()
    )


def _record(*, lead_id: int, turn: Turn, change: str, outcome: str) -> ReplyClassification:
    lead = Lead.objects.only("intent").get(pk=lead_id)
    reading = turn.reading
    return ReplyClassification.objects.create(
        lead_id=lead_id,
        inbound_id=turn.latest.pk,
        inbound_ids=[m.pk for m in turn.inbound],
        kind=reading.kind,
        confidence=reading.confidence,
        scores=reading.scores,
        also=reading.also,
        reasons=reading.reasons,
        intent_after=lead.intent,
        intent_before=change.split("intent ", 1)[1].split(" ->", 1)[0] if "intent " in change else lead.intent,
        change=change,
        outcome=outcome,
    )


def lead_auto_reply_receive(*, lead_id: int, inbound_id: int, returns_at: datetime | None) -> int:
    """An auto-reply from a known lead: no stage changes and no draft; the lead's follow-ups pause until the return
    date when it gives one (steps due before it move to it). Recorded as the turn's reading. Returns how many
    steps moved."""
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None or ReplyClassification.objects.filter(inbound_id=inbound_id).exists():
        return 0
    moved = 0
    with transaction.atomic():
        if returns_at is not None:
            steps = LeadSequenceStep.objects.select_for_update().filter(
                lead_sequence__lead_id=lead_id,
                lead_sequence__status="active",
                status=LeadSequenceStep.Status.SCHEDULED,
                due_at__lt=returns_at,
            )
            for step in steps:
                step.due_at = returns_at
                step.reason = f"paused by an auto-reply until {returns_at:%Y-%m-%d}"
                step.save(update_fields=["due_at", "reason"])
                moved += 1
        intent = Lead.objects.filter(pk=lead_id).values_list("intent", flat=True).first() or ""
        pause = f"follow-ups paused until {returns_at:%Y-%m-%d %H:%M}" if returns_at else "no return date given"
        ReplyClassification.objects.create(
            lead_id=lead_id,
            inbound_id=inbound_id,
            inbound_ids=[inbound_id],
            kind=ReplyKind.AUTO_REPLY,
            confidence=0.99,
            reasons=[inbound.automated_reason],
            intent_before=intent,
            intent_after=intent,  # an auto-reply changes nothing
            change=pause,
            outcome="no answer drafted: an auto-reply",
        )
        audit_record(
            actor=CONVERSATION,
            action="lead.auto_reply",
            obj=inbound,
            after={
                "reason": inbound.automated_reason,
                "returns_at": returns_at.isoformat() if returns_at else None,
                "steps_moved": moved,
            },
        )
    return moved
