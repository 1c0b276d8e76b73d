"""Reads reused by the API and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from bizpilot.business import business_zone
from bizpilot.errors import NotFound
from leads.models import InboundMessage, Lead
from meetings.models import Meeting
from messaging.models import REVIEW_RANKS, DeliveryEvent, LeadSequence, LeadSequenceStep, Message
from messaging.suppression import is_suppressed


def message_list(*, status: str | None = None) -> QuerySet[Message]:
    queryset = Message.objects.select_related("lead", "classification", "model_call", "prompt_template").order_by(
        "-created_at", "-id"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def lead_detail(*, lead_id: int) -> dict[str, Any]:
    """A lead with its classification in effect (intent, confidence, explanation, snippets; who wrote, in which
    language, whether the classifier, the LLM or the scam rule decided, and why the lead looked unfamiliar) and its
    messages."""
    lead = (
        Lead.objects.prefetch_related(
            "inbound_messages",
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id").only("id", "lead_id")),
        )
        .filter(pk=lead_id, erased_at__isnull=True)  # an erased person is gone from the API
        .first()
    )
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    classification = lead.classifications.order_by("-created_at", "-id").first()
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "source": lead.source,
        "state": lead.state,
        "intent": lead.intent or None,
        "confidence": lead.intent_confidence,
        "explanation": classification.explanation if classification else None,
        "snippets": classification.snippets if classification else [],
        "sender_kind": classification.kind if classification else None,
        "language": classification.language if classification else None,
        "decided_by": classification.decided_by if classification else None,
        "unfamiliar": (classification.explanation or {}).get("unfamiliar", []) if classification else [],
        "last_error": lead.last_error,
        "inbound_messages": list(lead.inbound_messages.all()),
        "message_ids": [m.pk for m in lead.messages.all()],
        "sequence": lead_sequence(lead_id=lead.pk),
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
    }


REVIEW_ORDER = ["review_rank", "created_at", "id"]


def review_queue() -> QuerySet[Message]:
    """Drafts waiting for a person: hot first, then the oldest first (one index: message_review_queue)."""
    return (
        Message.objects.filter(status=Message.Status.PENDING_REVIEW)
        .select_related("lead", "classification")
        .order_by(*REVIEW_ORDER)
    )


def review_queue_counts() -> dict[str, int]:
    """Drafts waiting per intent they were drafted for (from the queue's index alone)."""
    names = {rank: intent for intent, rank in REVIEW_RANKS.items()}
    rows = Message.objects.filter(status=Message.Status.PENDING_REVIEW).values("review_rank").annotate(n=Count("id"))
    counts = {"hot": 0, "warm": 0, "cold": 0}
    for row in rows:
        counts[names.get(row["review_rank"], "unclassified")] = row["n"]
    return counts


def text_diff(before: str, after: str) -> list[tuple[str, str]]:
    """Line by line: ("same" | "removed" | "added", line), for showing an operator's edit."""
    import difflib

    kinds = {" ": "same", "-": "removed", "+": "added"}
    return [
        (kinds[line[0]], line[2:])
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[0] in kinds
    ]


def message_review(message: Message) -> dict[str, Any]:
    """Everything the review screen shows beside the draft: the lead, what they wrote, why the intent, and why the
    draft was not sent on its own."""
    lead = message.lead
    inbound = list(lead.inbound_messages.order_by("received_at", "id"))
    answered = message.in_reply_to
    messages = [
        {
            "message": m,
            "answered": m.pk == message.in_reply_to_id,
            "newer": bool(answered and m.received_at > answered.received_at),
        }
        for m in inbound
    ]
    classification = message.classification
    explanation = (classification.explanation or {}) if classification else {}
    original = f"{message.original_subject}\n{message.original_body}".strip()
    current = f"{message.subject}\n{message.body}".strip()
    return {
        "lead": lead,
        "messages": messages,
        "suppressed": is_suppressed(message.to_address) if message.to_address else None,
        "classification": classification,
        "neighbours": explanation.get("neighbours", []),
        "summary": explanation.get("summary", ""),
        "arbitration": explanation.get("arbitration"),
        "unfamiliar": explanation.get("unfamiliar", []),
        "signals": explanation.get("signals", []),
        "kind_probability": (explanation.get("kind") or {}).get("probability"),
        "language_name": (explanation.get("language") or {}).get("name", ""),
        "snippets": classification.snippets if classification else [],
        "diff": text_diff(original, current) if original != current else [],
        "sequence": lead_sequence(lead_id=lead.pk),
        "timeline": lead_timeline(lead_id=lead.pk),
        "events": list(message.events.order_by("occurred_at", "id")),
    }


def lead_sequence(*, lead_id: int) -> dict[str, Any] | None:
    """A lead's follow-up sequence: its name, status, stop reason and each step (due time, channel, status, and its
    message once drafted). A drafted step's status is its message's (pending_review, sent, cancelled, ...)."""
    run = LeadSequence.objects.select_related("sequence").filter(lead_id=lead_id).first()
    if run is None:
        return None
    steps = LeadSequenceStep.objects.filter(lead_sequence=run).select_related("message").order_by("position")
    return {
        "name": run.sequence.name,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "started_at": run.started_at,
        "stopped_at": run.stopped_at,
        "steps": [
            {
                "position": step.position,
                "due_at": step.due_at,
                "channel": step.channel,
                "status": step.message.status if step.message is not None else step.status,
                "reason": step.reason,
                "message_id": step.message_id,
            }
            for step in steps
        ],
    }


def lead_timeline(*, lead_id: int) -> list[dict[str, Any]]:
    """Everything that happened with a lead, oldest first, then what is planned: inbound messages, replies and
    follow-ups sent, what people did with them (machine opens and scanner clicks left out), upcoming steps."""
    entries: list[dict[str, Any]] = []
    for inbound in InboundMessage.objects.filter(lead_id=lead_id):
        entries.append({"at": inbound.received_at, "kind": "received", "text": f"The lead wrote via {inbound.channel}"})
    for message in Message.objects.filter(lead_id=lead_id, sent_at__isnull=False).select_related("sequence_step"):
        step = getattr(message, "sequence_step", None)
        what = f"Follow-up {step.position}" if step else "Reply"
        entries.append({"at": message.sent_at, "kind": "sent", "text": f"{what} sent by {message.channel}"})
    events = DeliveryEvent.objects.filter(message__lead_id=lead_id, is_machine=False).exclude(event_type="sent")
    for event in events:
        entries.append(
            {"at": event.occurred_at, "kind": "event", "text": f"Message #{event.message_id} {event.event_type}"}
        )
    entries.sort(key=lambda e: e["at"])
    upcoming = LeadSequenceStep.objects.filter(
        lead_sequence__lead_id=lead_id, status=LeadSequenceStep.Status.SCHEDULED
    ).order_by("due_at")
    for step in upcoming:
        entries.append(
            {"at": step.due_at, "kind": "upcoming", "text": f"Follow-up {step.position} due by {step.channel}"}
        )
    return entries


def conversation(*, lead_id: int) -> list[dict[str, Any]]:
    """A lead's whole conversation in time order: every message in (with how it was read: its reply kind, or that
    it was an auto-reply), every message out (its status, who approved it, its delivery, opens and clicks, machine
    events marked), and the internal notes. Drafts not sent yet sit at the time they were drafted."""
    from intelligence.models import ReplyClassification
    from messaging.models import ConversationNote

    if not Lead.objects.filter(pk=lead_id, erased_at__isnull=True).exists():
        raise NotFound(f"Lead {lead_id} does not exist.")
    readings = {r.inbound_id: r for r in ReplyClassification.objects.filter(lead_id=lead_id).order_by("created_at")}
    items: list[dict[str, Any]] = []
    for inbound in InboundMessage.objects.filter(lead_id=lead_id):
        reading = readings.get(inbound.pk)
        items.append(
            {
                "type": "inbound",
                "id": inbound.pk,
                "at": inbound.received_at,
                "channel": inbound.channel,
                "subject": inbound.subject,
                "body": inbound.body,
                "from_address": inbound.from_address,
                "automated_reason": inbound.automated_reason,
                "reply_kind": reading.kind if reading else "",
                "reading": {
                    "kind": reading.kind,
                    "confidence": reading.confidence,
                    "also": reading.also,
                    "change": reading.change,
                    "outcome": reading.outcome,
                }
                if reading
                else None,
            }
        )
    messages = Message.objects.filter(lead_id=lead_id).prefetch_related(
        Prefetch("events", queryset=DeliveryEvent.objects.order_by("occurred_at", "id"))
    )
    for message in messages:
        items.append(
            {
                "type": "outbound",
                "id": message.pk,
                "at": message.sent_at or message.created_at,
                "channel": message.channel,
                "subject": message.subject,
                "body": message.body,
                "status": message.status,
                "generated_by": message.generated_by,
                "approved_by": message.approved_by,
                "reviewed_by": message.reviewed_by,
                "reply_kind": message.reply_kind,
                "answers": message.answers,
                "events": [
                    {"type": e.event_type, "at": e.occurred_at, "machine": e.is_machine, "why": e.machine_reason}
                    for e in message.events.all()
                ],
            }
        )
    for note in ConversationNote.objects.filter(lead_id=lead_id):
        items.append({"type": "note", "id": note.pk, "at": note.created_at, "author": note.author, "body": note.body})
    for meeting in Meeting.objects.filter(lead_id=lead_id):
        items.append(
            {
                "type": "meeting",
                "id": meeting.pk,
                "at": meeting.created_at,
                "body": meeting_line(meeting),
                "status": meeting.status,
                "starts_at": meeting.starts_at,
                "ends_at": meeting.ends_at,
                "source": meeting.source,
            }
        )
    order = {"inbound": 0, "outbound": 1, "note": 2, "meeting": 3}
    items.sort(key=lambda item: (item["at"], order[item["type"]], item["id"]))
    return items


def meeting_line(meeting: Meeting) -> str:
    """A meeting as one line of the conversation, in the business's time zone."""
    zone = business_zone()  # a worker's line (a CRM note) reads the same as the screen's
    starts, ends = meeting.starts_at.astimezone(zone), meeting.ends_at.astimezone(zone)
    return (
        f"Meeting {meeting.get_status_display().lower()} ({meeting.get_source_display()}): "
        f"{starts:%a %d %b %Y %H:%M} to {ends:%H:%M} {starts.tzname()}"
    )


def conversation_screen(*, lead_id: int) -> dict[str, Any]:
    """Everything the conversation screen shows: the thread, the drafts waiting for review, where the lead can be
    written to, and on the side their facts, stage, intent history, meetings and sequence."""
    from intelligence.models import Classification, ReplyClassification
    from messaging.compose import lead_channels

    lead = Lead.objects.filter(pk=lead_id, erased_at__isnull=True).first()
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    history: list[dict[str, Any]] = [
        {"at": c.created_at, "intent": c.intent, "why": f"{c.get_decided_by_display()}, {c.confidence:.0%}"}
        for c in Classification.objects.filter(lead_id=lead_id)
    ]
    history += [
        {"at": r.created_at, "intent": r.intent_after, "why": r.change}
        for r in ReplyClassification.objects.filter(lead_id=lead_id).exclude(change="")
    ]
    channels = lead_channels(lead)
    drafts = {m.pk: m for m in Message.objects.filter(lead_id=lead_id, status=Message.Status.PENDING_REVIEW)}
    items = conversation(lead_id=lead_id)
    for item in items:
        if item["type"] == "outbound" and item["id"] in drafts:
            item["draft"] = drafts[item["id"]]  # shown inline, to edit, approve, regenerate or reject
    return {
        "lead": lead,
        "items": items,
        "pending": len(drafts),
        "channels": [(name, address) for name, address in channels.items() if address],
        "suppressed": {address: is_suppressed(address) for address in {lead.email, lead.phone} if address},
        "intent_history": sorted(history, key=lambda h: h["at"]),
        "sequence": lead_sequence(lead_id=lead_id),
        "meetings": list(Meeting.objects.filter(lead_id=lead_id).order_by("-starts_at")),
    }
