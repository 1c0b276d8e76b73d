"""The business's availability: read (the row, or nothing set up yet) and changed by an admin (validated, audited)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from bizpilot.settings_rows import settings_row_save
from meetings.models import WEEKDAYS, Availability

AVAILABILITY_FIELDS = [
    *WEEKDAYS,
    "meeting_minutes",
    "buffer_minutes",
    "minimum_notice_minutes",
    "max_per_day",
    "slots_offered",
    "meeting_title",
    "location",
    "booking_link",
    "caldav_url",
    "caldav_username",
    "caldav_password",
    "invite_email",
]
_RANGE = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*[-\u2013]\s*(\d{1,2})[:.h](\d{2})\s*$")


def availability() -> Availability | None:
    """The business's availability, or None when no weekly hours are set (then nothing is offered)."""
    row = Availability.objects.order_by("pk").first()
    if row is None or not any(row.hours_of(day).strip() for day in range(7)):
        return None
    return row


def opening_ranges(text: str) -> list[tuple[time, time]]:
    """ "09:00-12:30, 13:30-17:00" as [(09:00, 12:30), (13:30, 17:00)]; raises ValueError on anything else."""
    ranges = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text))):
        found = _RANGE.match(part)
        if not found:
            raise ValueError(f"{part!r} is not a range like 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"{part!r} is not a time of day")
        start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts")
        ranges.append((start, end))
    return sorted(ranges)


def availability_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        try:
            opening_ranges(values.get(day) or "")
        except ValueError as exc:
            errors[day] = [f"{exc}. Write ranges like 09:00-12:30, 13:30-17:00, or leave it empty."]
    if not 5 <= int(values.get("meeting_minutes") or 0) <= 480:
        errors["meeting_minutes"] = ["A meeting lasts from 5 minutes to 8 hours."]
    if not 1 <= int(values.get("slots_offered") or 0) <= 5:
        errors["slots_offered"] = ["Offer from 1 to 5 times (2 or 3 read best)."]
    if not 1 <= int(values.get("max_per_day") or 0) <= 50:
        errors["max_per_day"] = ["From 1 to 50 meetings a day."]
    if values.get("caldav_url") and not values.get("caldav_username"):
        errors["caldav_username"] = ["The calendar's user name is needed to read it."]
    return errors


def availability_save(*, values: dict[str, Any], actor: str, user: Any = None) -> Availability:
    """Change when the business takes meetings (admins only); audited with before and after (never the password)."""
    return settings_row_save(
        model=Availability,
        fields=AVAILABILITY_FIELDS,
        values=values,
        actor=actor,
        user=user,
        permission=("meetings.change_availability", "change the availability"),
        validate=availability_validate,
        invalid="The availability is not valid.",
        action="availability.change",
        default=lambda: Availability.objects.order_by("pk").first() or Availability(),
        shown=str,
        secret={"caldav_password"},
    )


def demo_availability_ensure() -> Availability:
    """The demo studio's hours (weekdays 09:00-17:30, 30-minute calls), unless availability is set up already."""
    row = Availability.objects.order_by("pk").first()
    if row is not None:
        return row
    hours = "09:00-12:30, 13:30-17:30"
    return Availability.objects.create(
        monday=hours,
        tuesday=hours,
        wednesday=hours,
        thursday=hours,
        friday=hours,
        location="Phone: we call you on the number you gave, or a video link on request",
        updated_by="system:seed_demo",
    )
