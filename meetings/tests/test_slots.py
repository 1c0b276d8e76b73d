"""Free slots: the weekly hours in the business's time zone, minus the minimum notice, booked meetings and the
buffer around them, days off, full days, and busy times read from a real CalDAV calendar (Radicale)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bizpilot.business import business_save
from bizpilot.errors import ValidationFailed
from bizpilot.models import AuditEvent
from meetings.availability import availability_save
from meetings.calendar_busy import CalendarUnreachable, forget_cached_busy
from meetings.models import Availability, DayOff, Meeting
from meetings.slots import calendar_read, free_slots
from meetings.tests.conftest import put_event

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)


def starts(row: Availability, now: datetime = MONDAY_9, days: int = 2) -> list[str]:
    return [s.start.astimezone(LONDON).strftime("%a %H:%M") for s in free_slots(calendar_read(row, now=now), days=days)]


def test_slots_follow_the_weekly_hours_after_the_minimum_notice(week):
    monday = starts(week, days=0)
    assert monday[0] == "Mon 13:00" and monday[-1] == "Mon 16:30"  # four hours' notice from 09:00
    tuesday = [s for s in starts(week, days=1) if s.startswith("Tue")]
    assert tuesday[0] == "Tue 09:00" and tuesday[-1] == "Tue 16:30" and len(tuesday) == 16


def test_the_weekly_hours_are_on_the_clock_the_business_profile_names(week):
    business_save(values={"time_zone": "America/New_York"}, actor="user:admin")
    new_york = ZoneInfo("America/New_York")
    slots = list(free_slots(calendar_read(week, now=datetime(2026, 12, 7, 9, 0, tzinfo=new_york)), days=1))
    local = [s.start.astimezone(new_york).strftime("%a %H:%M") for s in slots]
    assert local[0] == "Mon 13:00" and local[-1] == "Tue 16:30"  # 09:00-17:00 in New York: 14:00-22:00 in London
    assert slots[0].start.astimezone(LONDON).strftime("%H:%M") == "18:00"


def test_a_booked_meeting_and_its_buffer_are_not_free(week):
    Meeting.objects.create(
        starts_at=datetime(2026, 12, 8, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2026, 12, 8, 10, 30, tzinfo=LONDON),
        source=Meeting.Source.CALCOM,
        external_id="x1",
    )
    tuesday = [s for s in starts(week, days=1) if s.startswith("Tue")]
    assert "Tue 09:00" in tuesday and "Tue 11:00" in tuesday
    assert not {"Tue 09:30", "Tue 10:00", "Tue 10:30"} & set(tuesday)  # 15 minutes either side


def test_days_off_weekends_and_full_days_have_no_slots(week):
    DayOff.objects.create(date=date(2026, 12, 9), note="Training")
    for hour in (9, 10, 11, 12):  # four meetings on Thursday: the most a day
        at = datetime(2026, 12, 10, hour, 0, tzinfo=LONDON)
        Meeting.objects.create(
            starts_at=at, ends_at=at + timedelta(minutes=30), source="calendly", external_id=f"t{hour}"
        )
    days = {s[:3] for s in starts(week, days=6)}
    assert days == {"Mon", "Tue", "Fri"}


def test_availability_is_validated_field_by_field_and_audited_without_the_password(db, admin_user):
    values = {
        "monday": "9-5",
        "meeting_minutes": 30,
        "slots_offered": 3,
        "max_per_day": 4,
    }
    with pytest.raises(ValidationFailed) as refused:
        availability_save(values=values, actor="user:admin", user=admin_user)
    assert "monday" in refused.value.fields
    values |= {"monday": "09:00-12:30, 13:30-17:00", "caldav_url": "https://cal.example/x/", "caldav_username": "a"}
    row = availability_save(values={**values, "caldav_password": "s3cret"}, actor="user:admin", user=admin_user)
    assert row.monday == "09:00-12:30, 13:30-17:00"
    event = AuditEvent.objects.get(action="availability.change")
    assert event.after["caldav_password"] == "(set)" and "s3cret" not in str(event.after)


def test_busy_times_in_a_real_caldav_calendar_are_not_offered(week, radicale):
    put_event(
        radicale,
        "dentist",
        "DTSTART;TZID=Europe/London:20261208T090000\r\nDTEND;TZID=Europe/London:20261208T120000\r\nSUMMARY:Dentist\r\n",
    )
    put_event(
        radicale,
        "standup",
        "DTSTART:20261209T140000Z\r\nDTEND:20261209T150000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Standup\r\n",
    )
    put_event(radicale, "free", "DTSTART:20261211T090000Z\r\nDTEND:20261211T170000Z\r\nTRANSP:TRANSPARENT\r\n")
    week.caldav_url, week.caldav_username, week.caldav_password = radicale, "ann", "pw"
    week.save()
    forget_cached_busy()
    slots = starts(week, days=4)
    tuesday = [s for s in slots if s.startswith("Tue")]
    assert tuesday[0] == "Tue 12:30"  # the dentist until 12:00, then the buffer (12:15 is on no slot)
    for day in ("Wed", "Thu", "Fri"):  # the daily stand-up, expanded by the server, blocks 13:45-15:15
        assert f"{day} 13:30" not in slots and f"{day} 14:00" not in slots and f"{day} 15:30" in slots
    assert "Fri 09:00" in slots  # a transparent event is free time


def test_an_unreachable_calendar_is_an_error_not_free_time(week):
    week.caldav_url, week.caldav_username = "http://127.0.0.1:9/cal/", "ann"
    week.save()
    forget_cached_busy()
    with pytest.raises(CalendarUnreachable):
        calendar_read(week, now=MONDAY_9)
