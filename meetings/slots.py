"""Free meeting slots: the business's weekly hours in its own time zone, minus days off, the minimum notice,
meetings booked (with the buffer around them), the busy times of its calendar, and full days (the most meetings a
day). Slots start at each opening time and every meeting length (at least 15 minutes) after it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bizpilot.business import business_zone
from meetings.availability import opening_ranges
from meetings.calendar_busy import Busy, calendar_busy
from meetings.models import Availability, DayOff, Meeting

HORIZON_DAYS = 21


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime

    def iso(self) -> str:
        return self.start.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Calendar:
    """What blocks a slot, read once (the database and the CalDAV calendar), so slots can be checked many times."""

    row: Availability
    now: datetime
    busy: list[Busy]
    meetings: list[tuple[datetime, datetime]]
    per_day: Counter[date]
    days_off: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return business_zone()


def calendar_read(
    row: Availability,
    *,
    now: datetime,
    days: int = HORIZON_DAYS,
    except_meeting: int = 0,
    busy: list[Busy] | None = None,
) -> Calendar:
    """Everything that blocks a slot from `now` for `days` days. Reads the CalDAV calendar (network) unless `busy`
    is given: call it outside any transaction, or pass the busy times read before. `except_meeting`: a meeting
    being moved does not block its own new time."""
    end = now + timedelta(days=days + 1)
    if busy is None:
        busy = calendar_busy(row, now - timedelta(days=1), end)
    zone = business_zone()
    booked = Meeting.objects.filter(
        status=Meeting.Status.BOOKED, ends_at__gte=now - timedelta(days=1), starts_at__lte=end
    ).exclude(pk=except_meeting)
    meetings = [(m.starts_at, m.ends_at) for m in booked]
    per_day = Counter(start.astimezone(zone).date() for start, _ in meetings)
    days_off = frozenset(
        DayOff.objects.filter(date__gte=(now - timedelta(days=1)).date()).values_list("date", flat=True)
    )
    return Calendar(row, now, busy, meetings, per_day, days_off)


def day_slots(row: Availability, day: date) -> Iterator[Slot]:
    """Every slot of a day by the weekly hours alone."""
    zone = business_zone()
    length = timedelta(minutes=row.meeting_minutes)
    step = timedelta(minutes=max(15, row.meeting_minutes))
    for opens, closes in opening_ranges(row.hours_of(day.weekday())):
        start = datetime.combine(day, opens, tzinfo=zone)
        close = datetime.combine(day, closes, tzinfo=zone)
        while start + length <= close:
            yield Slot(start.astimezone(UTC), (start + length).astimezone(UTC))
            start += step


def slot_free(calendar: Calendar, slot: Slot) -> bool:
    row = calendar.row
    local_day = slot.start.astimezone(calendar.zone).date()
    if slot.start < calendar.now + timedelta(minutes=row.minimum_notice_minutes):
        return False
    if local_day in calendar.days_off or calendar.per_day[local_day] >= row.max_per_day:
        return False
    buffer = timedelta(minutes=row.buffer_minutes)
    blocked = [*calendar.meetings, *((b.start, b.end) for b in calendar.busy)]
    return not any(slot.start < end + buffer and slot.end + buffer > start for start, end in blocked)


def is_a_slot(row: Availability, start: datetime) -> Slot | None:
    """The slot starting at `start` when the weekly hours have one there."""
    day = start.astimezone(business_zone()).date()
    return next((s for s in day_slots(row, day) if s.start == start), None)


def free_slots(calendar: Calendar, *, days: int = HORIZON_DAYS) -> Iterator[Slot]:
    """Free slots from now on, earliest first."""
    today = calendar.now.astimezone(calendar.zone).date()
    for offset in range(days + 1):
        for slot in day_slots(calendar.row, today + timedelta(days=offset)):
            if slot_free(calendar, slot):
                yield slot
