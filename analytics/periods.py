"""The date range every analytics page and metrics endpoint reports on, and the period before it of the same
length that it is compared with. Days are the business's days (BUSINESS_TIME_ZONE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from bizpilot.serializers import StrictSerializer

PRESETS = (7, 30, 90)
MAX_DAYS = 3650


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.BUSINESS_TIME_ZONE)


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


class PeriodQuery(StrictSerializer):
    """`days` (the last N days, default 30), or `start` and `end` (dates, both included)."""

    days = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DAYS, help_text="The last N days up to now (default 30)"
    )
    start = serializers.DateField(required=False, help_text="First day of a custom range (YYYY-MM-DD), with end")
    end = serializers.DateField(required=False, help_text="Last day of a custom range (YYYY-MM-DD), included")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError({missing: ["Give both start and end, or neither."]})
        if start is not None and end is not None:
            if "days" in attrs:
                raise serializers.ValidationError({"days": ["Give either days or start and end, not both."]})
            if end < start:
                raise serializers.ValidationError({"end": ["The end is before the start."]})
            if (end - start).days >= MAX_DAYS:
                raise serializers.ValidationError({"start": [f"A range spans at most {MAX_DAYS} days."]})
        return attrs

    def period(self) -> Period:
        data = self.validated_data
        if data.get("start") is not None:
            return day_range(data["start"], data["end"])
        return last_days(data.get("days", 30))


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
