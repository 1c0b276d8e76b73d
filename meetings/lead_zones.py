"""The lead's time zone, so offered times read in their own clock: a form field when the form sent one, else their
phone number's country (when it has one time zone, or the business's is among them), else the language they wrote
in (a Spanish speaker is read as in Madrid), else the business's."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from leads.models import Lead

FORM_FIELDS = ("time_zone", "timezone", "tz", "timeZone")
LANGUAGE_ZONES = {
    "es": "Europe/Madrid",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
    "it": "Europe/Rome",
    "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw",
    "pt": "Europe/Lisbon",
}


def valid_zone(name: object) -> str:
    if not isinstance(name, str) or not name or "/" not in name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def lead_time_zone(lead: Lead, *, language: str, business_zone: str) -> str:
    for field in FORM_FIELDS:
        if zone := valid_zone((lead.metadata or {}).get(field)):
            return zone
    if lead.phone:
        try:
            number = phonenumbers.parse(lead.phone, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None:
            zones = [z for z in phone_zones.time_zones_for_number(number) if valid_zone(z)]
            if business_zone in zones:
                return business_zone
            if len(zones) == 1:
                return zones[0]
    if language in LANGUAGE_ZONES and not lead.phone:
        return LANGUAGE_ZONES[language]
    return business_zone
