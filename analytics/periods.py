"""The date range every analytics page and metrics endpoint reports on, and the period before it of the same
length that it is compared with. Days are the business's days (its profile's time zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from bizpilot.business import business_zone
from bizpilot.serializers import StrictSerializer

PRESETS = (7, 30, 90)
MAX_DAYS = 3650


@dataclass(frozen=True)
class Period:
    """[start, end): aware datetimes at the business's midnights (or now, for a range ending today)."""

    start: datetime
    end: datetime
    days: int  # the length asked for: N for the last N days, the calendar days of a custom range

    @property
    def first_day(self) -> date:
        return self.start.astimezone(business_zone()).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(business_zone()).date()

    def previous(self) -> Period:
        return Period(start=self.start - (self.end - self.start), end=self.start, days=self.days)

    def day_list(self) -> list[date]:
        first, last = self.first_day, self.last_day
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.first_day.isoformat(), "end": self.last_day.isoformat(), "days": self.days}


def last_days(days: int, *, now: datetime | None = None) -> Period:
    """The last `days` days up to now."""
    now = now or timezone.now()
    return Period(start=now - timedelta(days=days), end=now, days=days)


def day_range(first: date, last: date) -> Period:
    """Whole business days from `first` to `last`, both included (a range ending today ends now)."""
    zone = business_zone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return Period(
        start=start, end=min(end, max(timezone.now(), start + timedelta(seconds=1))), days=(last - first).days + 1
    )


# Days outside these are taken as the nearest one (the comparison period before a range must still be a date).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def _clamped(day: date) -> date:
    return min(max(day, FIRST_DAY), LAST_DAY)


class PeriodQuery(StrictSerializer):
    """The range asked for. Every combination the schema allows means something (so none is refused):
    - neither `start` nor `end`: the last `days` days up to now (default 30);
    - `start` and `end`: the business days from one to the other, both included, in either order;
    - `start` alone: from that day to today; `end` alone: the `days` days that end on it;
    - a range over 3650 days is cut to the last 3650; days before 1970 or after 2999 are taken as the nearest."""

    days = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DAYS, help_text="The last N days up to now (default 30)"
    )
    start = serializers.DateField(
        required=False, help_text="First day of a custom range (YYYY-MM-DD); start and end win over days"
    )
    end = serializers.DateField(required=False, help_text="Last day of a custom range (YYYY-MM-DD), included")

    def period(self) -> Period:
        data = self.validated_data
        start, end, days = data.get("start"), data.get("end"), data.get("days", 30)
        if start is None and end is None:
            return last_days(days)
        today = timezone.now().astimezone(business_zone()).date()
        if end is None:
            end = max(_clamped(start), today)
        end = _clamped(end)
        if start is None:
            start = end - timedelta(days=days - 1)
        first, last = sorted((_clamped(start), end))
        return day_range(max(first, last - timedelta(days=MAX_DAYS - 1)), last)


def period_from(params: Any, *, strict: bool) -> tuple[Period, dict[str, list[str]]]:
    """The period a request asks for. Strict (the API): invalid input raises a 400. Pages: fall back to the last
    30 days and return the problems to show."""
    if strict:
        query = PeriodQuery(data=dict(params.items()))
        query.is_valid(raise_exception=True)
        return query.period(), {}
    query = PeriodQuery(data={k: v for k, v in params.items() if k in ("days", "start", "end") and v != ""})
    if query.is_valid():
        return query.period(), {}
    return last_days(30), {k: [str(m) for m in v] for k, v in query.errors.items()}
