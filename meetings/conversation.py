"""A lead's reply about a meeting, acted on before it is answered: a time they name is booked (an offered time, or
any free one), "none of those" gets new times, a booked meeting is moved or cancelled when they ask. The result is
what the answer must say, in the lead's language, and the invitation the confirmation carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from django.utils import timezone

from bizpilot.business import business
from bizpilot.errors import SlotUnavailable
from leads.models import Lead
from meetings.answers import AnswerReading, meeting_answer_read
from meetings.availability import availability
from meetings.booking import meeting_book, meeting_cancel, meeting_reschedule, upcoming_meeting
from meetings.invites import meeting_invite
from meetings.lead_zones import lead_time_zone
from meetings.models import Meeting, SlotOffer
from meetings.offers import MeetingOffer, meeting_offer_prepare
from meetings.slot_words import times_list, when, words_for, zone_label

log = structlog.get_logger(__name__)
OFFER_FRESH_FOR = timedelta(days=14)
ACTOR = "system:meetings"


@dataclass(frozen=True)
class MeetingTurn:
    """What was done: `note` is what the answer says; `invite` the iCalendar text the confirmation email carries;
    `offer` new times offered (recorded once the answer is stored)."""

    note: str
    outcome: str  # booked, rescheduled, cancelled, offered, taken
    meeting: Meeting | None = None
    invite: str = ""
    offer: MeetingOffer | None = None


def meeting_turn_take(
    *, lead_id: int, text: str, inbound_id: int, language: str, asks_to_meet: bool, now: datetime | None = None
) -> MeetingTurn | None:
    """Act on what the lead wrote about a meeting; None when it is not about one (or no availability is set up)."""
    row = availability()
    if row is None:
        return None
    now = now or timezone.now()
    offer = SlotOffer.objects.filter(lead_id=lead_id, created_at__gte=now - OFFER_FRESH_FOR).first()
    booked = upcoming_meeting(lead_id, now)
    if offer is None and booked is None and not asks_to_meet:
        return None
    lead = Lead.objects.get(pk=lead_id)
    zone = (offer.lead_time_zone if offer else "") or lead_time_zone(
        lead, language=language, business_zone=business().time_zone
    )
    offered = [datetime.fromisoformat(iso) for iso in (offer.slots if offer else [])]
    reading = meeting_answer_read(text, language=language, offered=offered, zone=zone, now=now)
    words = words_for(language)
    if booked is not None:
        return _about_booked(booked, reading, lead_id=lead_id, language=language, zone=zone, now=now)
    if reading.start is not None and reading.kind in ("time", "reschedule"):
        for start in reading.named:
            try:
                meeting = meeting_book(
                    lead_id=lead_id,
                    starts_at=start,
                    actor=ACTOR,
                    booked_from_id=inbound_id,
                    lead_time_zone=zone,
                    now=now,
                )
            except SlotUnavailable:
                continue
            return _confirmed(meeting, words.booked, "booked", language=language, zone=zone, row=row)
        return _new_times(lead_id, language, now, outcome="taken")
    if reading.kind == "none_work" or (reading.kind == "open" and asks_to_meet):
        return _new_times(lead_id, language, now, outcome="offered")
    return None


def _about_booked(
    booked: Meeting, reading: AnswerReading, *, lead_id: int, language: str, zone: str, now: datetime
) -> MeetingTurn | None:
    row = availability()
    words = words_for(language)
    if reading.kind == "cancel":
        meeting = meeting_cancel(meeting_id=booked.pk, actor=ACTOR, reason="the lead asked to cancel")
        return MeetingTurn(words.cancelled, "cancelled", meeting, meeting_invite(meeting, row=row, method="CANCEL"))
    if reading.kind in ("reschedule", "time") and reading.start is not None:
        if reading.start == booked.starts_at:
            return None  # the lead repeats the booked time
        try:
            meeting = meeting_reschedule(meeting_id=booked.pk, starts_at=reading.start, actor=ACTOR, now=now)
        except SlotUnavailable:
            return _new_times(lead_id, language, now, outcome="taken")
        return _confirmed(meeting, words.rescheduled, "rescheduled", language=language, zone=zone, row=row)
    if reading.kind in ("reschedule", "none_work"):
        return _new_times(lead_id, language, now, outcome="offered")
    return None


def _confirmed(meeting: Meeting, sentence: str, outcome: str, *, language: str, zone: str, row) -> MeetingTurn:
    local = meeting.starts_at.astimezone(ZoneInfo(zone))
    note = sentence.format(when=when(local, language), zone=zone_label(zone))
    log.info("meeting.confirmed", meeting_id=meeting.pk, outcome=outcome)
    return MeetingTurn(note, outcome, meeting, meeting_invite(meeting, row=row))


def _new_times(lead_id: int, language: str, now: datetime, *, outcome: str) -> MeetingTurn | None:
    """Times not offered to this lead before (they did not suit, or were taken)."""
    before = SlotOffer.objects.filter(lead_id=lead_id).values_list("slots", flat=True)
    offer = meeting_offer_prepare(
        lead_id=lead_id, language=language, now=now, rejected=frozenset(iso for slots in before for iso in slots)
    )
    if offer is None:
        return None
    if offer.link:
        return MeetingTurn(offer.text, outcome, offer=offer)
    local = [s.start.astimezone(ZoneInfo(offer.zone)) for s in offer.slots]
    note = words_for(language).none_work.format(times=times_list(local, language), zone=zone_label(offer.zone))
    return MeetingTurn(note, outcome, offer=offer)
