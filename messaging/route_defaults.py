"""The answers per kind of sender every installation starts with (used by the migration that seeds them and as
the fallback until one is saved)."""

from __future__ import annotations

_SIGN = "\n\nBest wishes,\n{{ sender_name }}\n{{ business_name }}"
# kind -> (action, subject, body)
ROUTE_DEFAULTS: dict[str, tuple[str, str, str]] = {
    "vendor": (
        "template",
        "Re: your message",
        "Hi {{ first_name|default:'there' }},\n\nThank you for getting in touch. We're not looking for this at the "
        "moment, so we'll pass for now." + _SIGN,
    ),
    "job_seeker": (
        "template",
        "Working with {{ business_name }}",
        "Hi {{ first_name|default:'there' }},\n\nThank you for your interest in working with {{ business_name }}. "
        "We don't recruit through this inbox, but we keep every application on file: when a role opens we'll post it "
        "on our website, and we'd be glad to hear from you then." + _SIGN,
    ),
    "support": (
        "forward",
        "Re: your support request",
        "Hi {{ first_name|default:'there' }},\n\nThanks for letting us know. I've passed your message to our support "
        "team{% if forward_to %} ({{ forward_to }}){% endif %}, who will get back to you shortly." + _SIGN,
    ),
    "spam": ("no_reply", "", ""),
    "phishing": ("no_reply", "", ""),
    "automated": ("no_reply", "", ""),
    "other": ("answer", "", ""),
}
