"""Contact details in one canonical form, so the same person is recognised whichever channel they write from.

Emails compare case-insensitively; phone numbers are stored in E.164 (`+447700900123`), parsed with the
`phonenumbers` package in the business's default region (PHONE_DEFAULT_REGION) when they have no country code.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidPhone(ValueError):
    pass


def normalize_phone(value: str, *, region: str | None = None) -> str:
    """E.164 for a phone number as people and providers write it (`07700 900123`, `whatsapp:+44...`), or ''."""
    value = value.strip().removeprefix("whatsapp:").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"Not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("Not a possible phone number (too short or too long for its country).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    """Trimmed, with the domain lower-cased (domains are case-insensitive; lookups ignore case altogether)."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}" if at else value
