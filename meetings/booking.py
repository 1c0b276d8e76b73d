"""Booking, moving and cancelling meetings. A booking reads the calendar first (network, outside any transaction),
then takes one lock for all bookings (a PostgreSQL advisory lock held to the end of the transaction), checks the
slot is still free against the meetings in the database, and writes: two leads never get the same slot. A unique
index on the start of meetings booked here is the last guard. Each change is audited and raises the invitation's
SEQUENCE; the business's copy of the invitation is emailed after the commit."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.db import connection, transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, SlotUnavailable, ValidationFailed
from leads.lifecycle import lead_mark_meeting_booked
from leads.models import Lead
from meetings.availability import availability
from meetings.models import Meeting
from meetings.signals import meeting_changed
from meetings.slots import calendar_read, is_a_slot, slot_free

log = structlog.get_logger(__name__)
BOOKING_LOCK = 0x6D656574  # "meet": one advisory lock serialises every booking and move


def _lock_bookings() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BOOKING_LOCK])


def meeting_book(
    *,
    lead_id: int,
    starts_at: datetime,
    actor: str,
    source: str = Meeting.Source.BIZPILOT,
    booked_from_id: int | None = None,
    lead_time_zone: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Book the slot starting at `starts_at` for the lead; raises SlotUnavailable when it is not free (any more)."""
    row = availability()
    if row is None:
        raise ValidationFailed("Set up the business's availability before booking meetings.")
    now = now or timezone.now()
    slot = is_a_slot(row, starts_at)
    if slot is None:
        raise SlotUnavailable("That is not one of the business's meeting times.", fields={"starts_at": ["Not a slot."]})
    busy = calendar_read(row, now=now).busy  # the CalDAV calendar, read before the lock
    lead = Lead.objects.get(pk=lead_id)
    with transaction.atomic():
        _lock_bookings()
        if not slot_free(calendar_read(row, now=now, busy=busy), slot):
            raise SlotUnavailable("That time has just been taken or is no longer free.")
        meeting = Meeting.objects.create(
            lead_id=lead_id,
            starts_at=slot.start,
            ends_at=slot.end,
            source=source,
            booked_from_id=booked_from_id,
            lead_time_zone=lead_time_zone,
            attendee_email=lead.email,
            attendee_name=lead.name,
        )
        meeting_booked_record(meeting, actor=actor, now=now)
    log.info("meeting.booked", meeting_id=meeting.pk, lead_id=lead_id, starts_at=meeting.starts_at.isoformat())
    return meeting


def meeting_booked_record(meeting: Meeting, *, actor: str, now: datetime) -> None:
    audit_record(
        actor=actor,
        action="meeting.booked",
        obj=meeting,
        after={"starts_at": meeting.starts_at.isoformat(), "source": meeting.source, "lead_id": meeting.lead_id},
    )
    if meeting.lead_id:
        lead_mark_meeting_booked(lead_id=meeting.lead_id, at=now, actor=actor)
    meeting_change_tell(meeting, "booked")


def meeting_change_tell(meeting: Meeting, change: str) -> None:
    meeting_changed.send(sender=Meeting, meeting_id=meeting.pk, lead_id=meeting.lead_id, change=change)
    jobs.enqueue_on_commit(
        "meetings.tasks.send_business_invite",
        meeting.pk,
        change,
        task_name=f"send_business_invite-{meeting.pk}-{meeting.sequence}",
    )


def meeting_reschedule(*, meeting_id: int, starts_at: datetime, actor: str, now: datetime | None = None) -> Meeting:
    """Move a booked meeting to another free slot (the invitation's SEQUENCE goes up)."""
    row = availability()
    if row is None:
        raise ValidationFailed("Set up the business's availability before moving meetings.")
    now = now or timezone.now()
    slot = is_a_slot(row, starts_at)
    if slot is None:
        raise SlotUnavailable("That is not one of the business's meeting times.", fields={"starts_at": ["Not a slot."]})
    busy = calendar_read(row, now=now, except_meeting=meeting_id).busy
    with transaction.atomic():
        _lock_bookings()
        meeting = _locked_booked(meeting_id)
        if not slot_free(calendar_read(row, now=now, busy=busy, except_meeting=meeting_id), slot):
            raise SlotUnavailable("That time has just been taken or is no longer free.")
        before = {"starts_at": meeting.starts_at.isoformat()}
        meeting.starts_at, meeting.ends_at = slot.start, slot.end
        meeting.sequence += 1
        meeting.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])
        audit_record(
            actor=actor, action="meeting.rescheduled", obj=meeting, before=before, after={"starts_at": slot.iso()}
        )
        meeting_change_tell(meeting, "rescheduled")
    return meeting


def meeting_cancel(*, meeting_id: int, actor: str, reason: str = "") -> Meeting:
    with transaction.atomic():
        meeting = _locked_booked(meeting_id)
        meeting.status = Meeting.Status.CANCELLED
        meeting.cancel_reason = reason[:300]
        meeting.sequence += 1
        meeting.save(update_fields=["status", "cancel_reason", "sequence", "updated_at"])
        audit_record(actor=actor, action="meeting.cancelled", obj=meeting, after={"reason": reason})
        meeting_change_tell(meeting, "cancelled")
    return meeting


def _locked_booked(meeting_id: int) -> Meeting:
    meeting = Meeting.objects.select_for_update().filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound(f"Meeting {meeting_id} does not exist.")
    if meeting.status != Meeting.Status.BOOKED:
        raise InvalidTransition("The meeting is cancelled already.")
    return meeting


def upcoming_meeting(lead_id: int, now: datetime | None = None) -> Meeting | None:
    """The lead's next booked meeting, if any."""
    now = now or timezone.now()
    return (
        Meeting.objects.filter(lead_id=lead_id, status=Meeting.Status.BOOKED, ends_at__gte=now - timedelta(hours=1))
        .order_by("starts_at")
        .first()
    )
