"""Offering a hot lead concrete times: two or three free slots on different days, morning and afternoon, inside
the lead's own waking hours where the business's hours allow it, and not the times just offered to another lead
(so two leads are rarely offered the same time; booking takes a lock either way). With a Cal.com or Calendly link
set up, the link instead. Written in the lead's language and time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from django.utils import timezone

from bizpilot.business import business
from leads.models import Lead
from meetings.availability import availability
from meetings.calendar_busy import CalendarUnreachable
from meetings.lead_zones import lead_time_zone
from meetings.models import SlotOffer
from meetings.slot_words import times_list, words_for, zone_label
from meetings.slots import Slot, calendar_read, free_slots

log = structlog.get_logger(__name__)
HELD_FOR = timedelta(hours=48)  # a time offered to one lead is not offered to the next for this long
WAKING = (8, 20)  # local hours a lead may be offered


@dataclass(frozen=True)
class MeetingOffer:
    text: str  # the sentence for the draft
    slots: list[Slot] = field(default_factory=list)
    zone: str = ""
    link: str = ""


def meeting_offer_prepare(
    *,
    lead_id: int,
    language: str,
    now: datetime | None = None,
    rejected: frozenset[str] = frozenset(),
    text_message: bool = False,
) -> MeetingOffer | None:
    """What a hot draft offers (None: no availability set up, or nothing free: the draft asks for times).
    `rejected`: times (ISO, UTC) the lead said do not suit, never offered again. A text message offers two at most
    (it must stay short)."""
    row = availability()
    if row is None:
        return None
    words = words_for(language)
    if row.booking_link:
        return MeetingOffer(
            text=words.link.format(minutes=row.meeting_minutes, link=row.booking_link), link=row.booking_link
        )
    now = now or timezone.now()
    lead = Lead.objects.get(pk=lead_id)
    zone = lead_time_zone(lead, language=language, business_zone=business().time_zone)
    try:
        calendar = calendar_read(row, now=now)
    except CalendarUnreachable as exc:
        log.warning("meetings.calendar_unreachable", error=str(exc))
        return None  # nothing is offered as free on a calendar that could not be read
    free = [slot for slot in free_slots(calendar) if slot.iso() not in rejected]
    count = min(row.slots_offered, 2) if text_message else row.slots_offered
    chosen = choose_slots(free, count=count, zone=zone, held=held_slots(lead_id, now))
    if not chosen:
        return None
    local = [s.start.astimezone(ZoneInfo(zone)) for s in chosen]
    text = words.offer.format(minutes=row.meeting_minutes, times=times_list(local, language), zone=zone_label(zone))
    return MeetingOffer(text=text, slots=chosen, zone=zone)


def held_slots(lead_id: int, now: datetime) -> set[str]:
    """The times offered to other leads lately."""
    offers = SlotOffer.objects.filter(created_at__gte=now - HELD_FOR).exclude(lead_id=lead_id)
    return {iso for offer in offers.values_list("slots", flat=True) for iso in offer}


def choose_slots(free: list[Slot], *, count: int, zone: str, held: set[str]) -> list[Slot]:
    """Up to `count` slots: one per day, alternating morning and afternoon, waking hours for the lead first, not
    held for another lead (unless nothing else is free)."""
    lead_zone = ZoneInfo(zone)

    def awake(slot: Slot) -> bool:
        return WAKING[0] <= slot.start.astimezone(lead_zone).hour < WAKING[1]

    for candidates in (
        [s for s in free if awake(s) and s.iso() not in held],
        [s for s in free if awake(s)],
        free,
    ):
        chosen: list[Slot] = []
        for slot in candidates:
            local = slot.start.astimezone(lead_zone)
            if any(c.start.astimezone(lead_zone).date() == local.date() for c in chosen):
                continue
            want_afternoon = len(chosen) % 2 == 1
            if (local.hour >= 12) != want_afternoon and _has_other_half(candidates, local, lead_zone, want_afternoon):
                continue
            chosen.append(slot)
            if len(chosen) == count:
                return chosen
        if chosen:
            return chosen
    return []


def _has_other_half(candidates: list[Slot], local: datetime, zone: ZoneInfo, afternoon: bool) -> bool:
    return any(
        s.start.astimezone(zone).date() == local.date() and (s.start.astimezone(zone).hour >= 12) == afternoon
        for s in candidates
    )


def slot_offer_record(*, lead_id: int, message_id: int | None, offer: MeetingOffer) -> SlotOffer | None:
    """Keep the times a draft offered, so the lead's answer is read against them."""
    if not offer.slots:
        return None
    if message_id is not None and (done := SlotOffer.objects.filter(message_id=message_id).first()):
        return done  # a second run of the same draft
    return SlotOffer.objects.create(
        lead_id=lead_id, message_id=message_id, slots=[s.iso() for s in offer.slots], lead_time_zone=offer.zone
    )
