"""Who the business is (the business profile): read by every app that writes to a lead or about one. The admin's
row, else the environment's BUSINESS_NAME, BUSINESS_SENDER_NAME and DEFAULT_FROM_EMAIL; a process keeps the row for
FLAGS_CACHE_SECONDS (at once in the process that saved it)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.forms import ValidationError

from bizpilot.access import require_permission
from bizpilot.errors import ValidationFailed
from bizpilot.models import BusinessProfile
from bizpilot.process_cache import ProcessCached
from bizpilot.settings_rows import settings_row_write

TONES = {
    "warm": "Be warm, specific and brief.",
    "formal": "Be courteous and formal, specific and brief.",
    "casual": "Be friendly and casual, specific and brief.",
}
ENGLISH = {"british": "Write British English.", "american": "Write American English."}


@dataclass(frozen=True)
class Business:
    name: str
    sender_name: str
    from_email: str
    offering: str = ""
    area: str = ""
    opening_hours: str = ""
    signature: str = ""
    tone: str = "warm"
    english: str = ""

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
        name=settings.BUSINESS_NAME, sender_name=settings.BUSINESS_SENDER_NAME, from_email=settings.DEFAULT_FROM_EMAIL
    )


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
    if values.get("tone") and values["tone"] not in TONES:
        problems["tone"] = [f"One of: {', '.join(TONES)}."]
    if values.get("english") and values["english"] not in ENGLISH:
        problems["english"] = [f"One of: {', '.join(ENGLISH)}, or empty."]
    return problems


def business_save(*, values: dict[str, Any], actor: str, user: Any = None) -> BusinessProfile:
    """Change the business profile (admins), with an audit row of before and after."""
    require_permission(user, "bizpilot.change_businessprofile", "change the business profile")
    problems = business_validate(values)
    if problems:
        raise ValidationFailed("Invalid business profile.", fields=problems)
    current = business()
    row = settings_row_write(
        model=BusinessProfile,
        fields=PROFILE_FIELDS,
        values=values,
        actor=actor,
        action="business_profile.change",
        default=lambda: BusinessProfile(**{name: getattr(current, name) for name in PROFILE_FIELDS}),
    )
    transaction.on_commit(business_forget)
    business_forget()
    return row
