"""Who the business is (the business profile): read by every app that writes to a lead or about one. The admin's
row, else the environment's BUSINESS_NAME, BUSINESS_SENDER_NAME, DEFAULT_FROM_EMAIL and BUSINESS_TIME_ZONE; a process
keeps the row for FLAGS_CACHE_SECONDS (at once in the process that saved it).

The profile's time zone is the business's clock, the only one: meeting hours, quiet hours and daily caps, the
out-of-office dates, the analytics' days and the admin's times all read `business_zone()`. Server time (Django's
TIME_ZONE) is only where timestamps are stored and what the JSON API writes (UTC)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.forms import ValidationError
from django.utils import timezone

from bizpilot.models import BusinessProfile
from bizpilot.process_cache import ProcessCached
from bizpilot.settings_rows import settings_row_save

TONES = {
    "warm": "Be warm, specific and brief.",
    "formal": "Be courteous and formal, specific and brief.",
    "casual": "Be friendly and casual, specific and brief.",
}
# "In English, write Australian English.": a lead who wrote another language is still answered in theirs.
ENGLISH = {choice: f"In English, write {label}." for choice, label in BusinessProfile.English.choices if choice}


@dataclass(frozen=True)
class Business:
    name: str
    sender_name: str
    from_email: str
    offering: str = ""
    area: str = ""
    opening_hours: str = ""
    time_zone: str = ""
    signature: str = ""
    tone: str = "warm"
    english: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone or settings.BUSINESS_TIME_ZONE)

    @property
    def sign_off(self) -> str:
        return self.signature.strip() or f"{self.sender_name}\n{self.name}"

    @property
    def email_domain(self) -> str:
        return parseaddr(self.from_email)[1].rsplit("@", 1)[-1] or "bizpilot.local"

    def prompt_lines(self) -> str:
        """What the LLM's system prompt says about the business beyond its name: what it sells, where, when, the
        tone, the English. The defaults add nothing but the tone's sentence."""
        parts = [TONES.get(self.tone, TONES["warm"])]
        if self.english in ENGLISH:
            parts.append(ENGLISH[self.english])
        if self.offering:
            parts.append(f"The business sells: {self.offering.strip()}.")
        if self.area:
            parts.append(f"It works in: {self.area.strip()}.")
        if self.opening_hours:
            parts.append(f"Opening hours: {self.opening_hours.strip()}.")
        return " ".join(parts)


PROFILE_FIELDS = tuple(f.name for f in fields(Business))
_row = ProcessCached(lambda: BusinessProfile.objects.order_by("pk").first())


def business() -> Business:
    row = _row.get()
    if row is not None:
        return Business(**{name: getattr(row, name) for name in PROFILE_FIELDS})
    return Business(
        name=settings.BUSINESS_NAME,
        sender_name=settings.BUSINESS_SENDER_NAME,
        from_email=settings.DEFAULT_FROM_EMAIL,
        time_zone=settings.BUSINESS_TIME_ZONE,
    )


def business_zone() -> ZoneInfo:
    """The business's time zone: where its days begin and end."""
    return business().zone


def time_zone_names() -> list[str]:
    """The IANA names a business may choose, sorted (the admin's list)."""
    legacy = ("Etc/", "SystemV/", "posix/", "right/")
    return sorted({name for name in available_timezones() if "/" in name and not name.startswith(legacy)} | {"UTC"})


def time_zone_problem(name: Any) -> str:
    """Why `name` is not a time zone this install knows ("" when it is one)."""
    try:
        ZoneInfo(str(name or ""))
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not a time zone name (for example Europe/London or America/New_York)."
    return ""


def business_forget() -> None:
    _row.forget()


def business_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name in ("name", "sender_name", "from_email"):
        if name in values and not str(values[name] or "").strip():
            problems[name] = ["Needed: replies say it."]
    if values.get("from_email"):
        address = parseaddr(str(values["from_email"]))[1]
        try:
            validate_email(address)
        except ValidationError:
            problems["from_email"] = ["An address such as Flow Right Plumbing <hello@flowright.example>."]
    if "time_zone" in values and (problem := time_zone_problem(values["time_zone"])):
        problems["time_zone"] = [problem]
    if values.get("tone") and values["tone"] not in TONES:
        problems["tone"] = [f"One of: {', '.join(TONES)}."]
    if values.get("english") and values["english"] not in ENGLISH:
        problems["english"] = [f"One of: {', '.join(ENGLISH)}, or empty."]
    return problems


def business_save(*, values: dict[str, Any], actor: str, user: Any = None) -> BusinessProfile:
    """Change the business profile (admins), with an audit row of before and after."""
    current = business()
    row = settings_row_save(
        model=BusinessProfile,
        fields=PROFILE_FIELDS,
        values=values,
        actor=actor,
        user=user,
        permission=("bizpilot.change_businessprofile", "change the business profile"),
        validate=business_validate,
        invalid="Invalid business profile.",
        action="business_profile.change",
        default=lambda: BusinessProfile(**{name: getattr(current, name) for name in PROFILE_FIELDS}),
    )
    transaction.on_commit(business_forget)
    business_forget()
    return row


class BusinessTimeZoneMiddleware:
    """The times people read on BizPilot's pages (the admin, the analytics) are on the business's clock: those
    requests run with the business's time zone active. The JSON API's timestamps stay UTC, the same for every
    client; webhooks, health checks and metrics need no clock and cost no query. When the profile cannot be read
    (the database is away) the environment's zone stands in and the page fails, or not, its own way."""

    PAGES = ("/admin/", "/analytics/")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if not request.path.startswith(self.PAGES):
            return self.get_response(request)
        try:
            zone = business_zone()
        except Exception:  # a page's clock is never worth a 500
            zone = ZoneInfo(settings.BUSINESS_TIME_ZONE)
        with timezone.override(zone):
            return self.get_response(request)
