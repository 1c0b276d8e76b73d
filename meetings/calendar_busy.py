"""Busy times from the business's own calendar over CalDAV (RFC 4791), which Google, iCloud, Fastmail and Nextcloud
all speak: one calendar-query REPORT for the events in a time range, recurrences expanded by the server
(`<C:expand>`), read with `icalendar`. Transparent (free) and cancelled events do not block. Kept for
CALDAV_CACHE_SECONDS, so offering slots to many leads reads the calendar once a minute."""

from __future__ import annotations

import threading
import time as monotonic_time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import requests
from defusedxml import ElementTree as ET  # the calendar's answer is untrusted XML
from django.conf import settings

from meetings.models import Availability

QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data><C:expand start="{start}" end="{end}"/></C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
CALDAV_DATA = "{urn:ietf:params:xml:ns:caldav}calendar-data"


class CalendarUnreachable(Exception):
    """The calendar could not be read: no slot is offered as free on its word."""


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


_cache: dict[tuple[str, str, str], tuple[float, list[Busy]]] = {}
_lock = threading.Lock()


def calendar_busy(row: Availability, start: datetime, end: datetime) -> list[Busy]:
    """The busy times between `start` and `end` in the calendar at `row.caldav_url` ([] when none is set up).
    Raises CalendarUnreachable when it cannot be read."""
    if not row.caldav_url:
        return []
    key = (row.caldav_url, start.date().isoformat(), end.date().isoformat())
    with _lock:
        cached = _cache.get(key)
        if cached and monotonic_time.monotonic() - cached[0] < settings.CALDAV_CACHE_SECONDS:
            return cached[1]
    busy = _read(row, start, end)
    with _lock:
        _cache[key] = (monotonic_time.monotonic(), busy)
    return busy


def forget_cached_busy() -> None:
    with _lock:
        _cache.clear()


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _read(row: Availability, start: datetime, end: datetime) -> list[Busy]:
    try:
        response = requests.request(
            "REPORT",
            row.caldav_url,
            data=QUERY.format(start=_stamp(start), end=_stamp(end)).encode(),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            auth=(row.caldav_username, row.caldav_password) if row.caldav_username else None,
            timeout=settings.CALDAV_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise CalendarUnreachable(f"the calendar did not answer: {exc}") from exc
    if response.status_code != 207:
        raise CalendarUnreachable(f"the calendar answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise CalendarUnreachable(f"the calendar's answer is not XML: {exc}") from exc
    busy: list[Busy] = []
    for data in root.iter(CALDAV_DATA):
        busy += _events(data.text or "", start, end)
    return sorted(busy, key=lambda b: b.start)


def _events(text: str, start: datetime, end: datetime) -> list[Busy]:
    from dateutil.rrule import rrulestr
    from icalendar import Calendar

    found = []
    try:
        calendar = Calendar.from_ical(text)
    except ValueError:
        return []
    for event in calendar.walk("VEVENT"):
        if str(event.get("TRANSP", "")).upper() == "TRANSPARENT" or str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        first = _instant(event.decoded("DTSTART"))
        if "DTEND" in event:
            length = _instant(event.decoded("DTEND")) - first
        else:
            length = event.decoded("DURATION") if "DURATION" in event else timedelta(days=1)
        starts = [first]
        if "RRULE" in event:  # a server that did not expand: expand here
            written = event["RRULE"].to_ical()
            rule = rrulestr(written.decode() if isinstance(written, bytes) else str(written), dtstart=first)
            starts = list(rule.between(start - length, end, inc=True))
        found += [Busy(s, s + length) for s in starts if s < end and s + length > start]
    return found


def _instant(value: date | datetime) -> datetime:
    """A DTSTART as an aware instant: a floating time is read as UTC, an all-day date blocks the whole day (UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)
