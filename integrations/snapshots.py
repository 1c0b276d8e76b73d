"""What an event says about its lead, message or meeting, as plain JSON. Everything is kept in the event; each
subscription's body leaves out what it is not set to include (integrations.payloads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leads.models import Lead
from meetings.models import Meeting
from messaging.models import Message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def lead_snapshot(lead_id: int) -> dict[str, Any]:
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return {"id": lead_id}
    return {
        "id": lead.pk,
        "state": lead.state,
        "intent": lead.intent,
        "intent_confidence": lead.intent_confidence,
        "source": lead.source,
        "channel": lead.preferred_channel,
        "created_at": _iso(lead.created_at),
        "meeting_booked_at": _iso(lead.meeting_booked_at),
        "converted_at": _iso(lead.converted_at),
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
    }


def message_snapshot(message_id: int) -> dict[str, Any]:
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return {"id": message_id}
    return {
        "id": message.pk,
        "channel": message.channel,
        "status": message.status,
        "generated_by": message.generated_by,
        "reply_kind": message.reply_kind,
        "sent_at": _iso(message.sent_at),
        "subject": message.subject,
        "body": message.body,
    }


def meeting_snapshot(meeting_id: int) -> dict[str, Any]:
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None:
        return {"id": meeting_id}
    return {
        "id": meeting.pk,
        "starts_at": _iso(meeting.starts_at),
        "ends_at": _iso(meeting.ends_at),
        "status": meeting.status,
        "source": meeting.source,
    }
