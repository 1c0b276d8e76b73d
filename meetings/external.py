"""Meetings booked through the business's own Cal.com or Calendly page: their webhooks (booking created, moved,
cancelled), verified as each documents, recorded as meetings attached to the lead with the booker's email.

- Cal.com: `X-Cal-Signature-256` is the hex HMAC-SHA256 of the raw body with the webhook's secret. The body is
  {"triggerEvent": "BOOKING_CREATED" | "BOOKING_RESCHEDULED" | "BOOKING_CANCELLED", "payload": {"uid",
  "startTime", "endTime", "attendees": [{"email", "name", "timeZone"}], "rescheduleUid" (the booking it replaces),
  "cancellationReason"}}.
- Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>`, the HMAC-SHA256 of "<t>.<raw body>" with the
  subscription's signing key; older than three minutes is refused (a replay). The body is {"event":
  "invitee.created" | "invitee.canceled", "payload": {"uri", "email", "name", "timezone", "rescheduled",
  "old_invitee", "scheduled_event": {"start_time", "end_time"}, "cancellation": {"reason"}}}. A move is a
  cancellation (rescheduled: true) and a creation (old_invitee: the one it replaces)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bizpilot.audit import audit_record
from leads.identity import known_lead
from meetings.booking import meeting_booked_record, meeting_change_tell
from meetings.models import Meeting

CALENDLY_TOLERANCE_SECONDS = 180


class WebhookRefused(Exception):
    """A webhook that is not signed as its provider signs (or carries nothing we can record)."""


def calcom_signature_ok(raw: bytes, signature: str) -> bool:
    secret = settings.CALCOM_WEBHOOK_SECRET
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower())


def calendly_signature_ok(raw: bytes, header: str, *, now: float | None = None) -> bool:
    key = settings.CALENDLY_WEBHOOK_SIGNING_KEY
    if not key or not header:
        return False
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    stamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or abs((now or time.time()) - int(stamp)) > CALENDLY_TOLERANCE_SECONDS:
        return False
    expected = hmac.new(key.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def calcom_event_record(body: dict[str, Any]) -> Meeting | None:
    trigger = str(body.get("triggerEvent", ""))
    payload = body.get("payload") or {}
    uid = str(payload.get("uid") or "")
    if not uid:
        raise WebhookRefused("no booking uid")
    if trigger == "BOOKING_CANCELLED":
        return _external_cancel(Meeting.Source.CALCOM, uid, str(payload.get("cancellationReason") or ""))
    if trigger not in ("BOOKING_CREATED", "BOOKING_RESCHEDULED"):
        return None  # other triggers (meeting started, recording ready) change no booking
    attendee = (payload.get("attendees") or [{}])[0]
    return _external_booked(
        source=Meeting.Source.CALCOM,
        external_id=uid,
        replaces=str(payload.get("rescheduleUid") or payload.get("fromReschedule") or ""),
        starts_at=_instant(payload.get("startTime")),
        ends_at=_instant(payload.get("endTime")),
        email=str(attendee.get("email") or ""),
        name=str(attendee.get("name") or ""),
        zone=str(attendee.get("timeZone") or ""),
    )


def calendly_event_record(body: dict[str, Any]) -> Meeting | None:
    event = str(body.get("event", ""))
    payload = body.get("payload") or {}
    uri = str(payload.get("uri") or "")
    if not uri:
        raise WebhookRefused("no invitee uri")
    if event == "invitee.canceled":
        if payload.get("rescheduled"):
            return None  # the invitee.created of the new time moves the meeting
        reason = str((payload.get("cancellation") or {}).get("reason") or "")
        return _external_cancel(Meeting.Source.CALENDLY, uri, reason)
    if event != "invitee.created":
        return None
    scheduled = payload.get("scheduled_event") or {}
    return _external_booked(
        source=Meeting.Source.CALENDLY,
        external_id=uri,
        replaces=str(payload.get("old_invitee") or ""),
        starts_at=_instant(scheduled.get("start_time")),
        ends_at=_instant(scheduled.get("end_time")),
        email=str(payload.get("email") or ""),
        name=str(payload.get("name") or ""),
        zone=str(payload.get("timezone") or ""),
    )


def _instant(value: Any) -> datetime:
    parsed = parse_datetime(str(value or ""))
    if parsed is None or parsed.tzinfo is None:
        raise WebhookRefused(f"not a time with a zone: {value!r}")
    return parsed


def _external_booked(
    *,
    source: str,
    external_id: str,
    replaces: str,
    starts_at: datetime,
    ends_at: datetime,
    email: str,
    name: str,
    zone: str,
) -> Meeting:
    """Record (or move) a meeting booked elsewhere, on the lead with that email; idempotent per booking id."""
    actor = f"webhook:{source}"
    with transaction.atomic():
        lead = known_lead(email, "") if email else None
        existing = Meeting.objects.select_for_update().filter(source=source, external_id=external_id).first()
        if existing is not None:
            return existing  # a retried delivery
        moved = (
            Meeting.objects.select_for_update().filter(source=source, external_id=replaces).first()
            if replaces
            else None
        )
        if moved is not None:
            before = {"starts_at": moved.starts_at.isoformat()}
            moved.external_id, moved.starts_at, moved.ends_at = external_id, starts_at, ends_at
            moved.status = Meeting.Status.BOOKED
            moved.sequence += 1
            moved.save()
            audit_record(
                actor=actor,
                action="meeting.rescheduled",
                obj=moved,
                before=before,
                after={"starts_at": starts_at.isoformat()},
            )
            meeting_change_tell(moved, "rescheduled")
            return moved
        meeting = Meeting.objects.create(
            lead=lead,
            starts_at=starts_at,
            ends_at=ends_at,
            source=source,
            external_id=external_id,
            lead_time_zone=zone[:64],
            attendee_email=email,
            attendee_name=name[:200],
        )
        meeting_booked_record(meeting, actor=actor, now=timezone.now())
    return meeting


def _external_cancel(source: str, external_id: str, reason: str) -> Meeting | None:
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().filter(source=source, external_id=external_id).first()
        if meeting is None or meeting.status == Meeting.Status.CANCELLED:
            return meeting
        meeting.status, meeting.cancel_reason = Meeting.Status.CANCELLED, reason[:300]
        meeting.sequence += 1
        meeting.save(update_fields=["status", "cancel_reason", "sequence", "updated_at"])
        audit_record(actor=f"webhook:{source}", action="meeting.cancelled", obj=meeting, after={"reason": reason})
        meeting_change_tell(meeting, "cancelled")
    return meeting
