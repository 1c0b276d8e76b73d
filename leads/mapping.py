"""Turning a source's fields (form answers, JSON keys, CSV headers) into a lead's fields.

An explicit mapping wins; every lead field it leaves out is found by its common names ("E-mail address",
"Your message", "Mobile"...), compared without case, punctuation or extra spaces.
"""

from __future__ import annotations

import re
from typing import Any

LEAD_FIELDS = ("name", "email", "phone", "company", "subject", "message")

ALIASES: dict[str, set[str]] = {
    "name": {"name", "full name", "your name", "contact name", "contact", "customer name", "lead name", "nom"},
    "first_name": {"first name", "firstname", "given name", "forename"},
    "last_name": {"last name", "lastname", "surname", "family name"},
    "email": {"email", "e mail", "email address", "e mail address", "your email", "mail", "emailaddress", "courriel"},
    "phone": {
        "phone",
        "phone number",
        "telephone",
        "tel",
        "mobile",
        "mobile number",
        "cell",
        "cell phone",
        "whatsapp",
        "your phone",
        "contact number",
        "phonenumber",
    },
    "company": {
        "company",
        "company name",
        "business",
        "business name",
        "organisation",
        "organization",
        "org",
        "employer",
    },
    "subject": {"subject", "topic", "title", "regarding"},
    "message": {
        "message",
        "your message",
        "comments",
        "comment",
        "details",
        "inquiry",
        "enquiry",
        "question",
        "notes",
        "description",
        "how can we help",
        "how can we help you",
        "project",
        "body",
        "text",
        "request",
    },
}
_BY_ALIAS = {alias: field for field, aliases in ALIASES.items() for alias in aliases}


def normalize_key(key: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(key).lower()).split())


def field_for(key: str) -> str | None:
    """The lead field a source's field name means, by its common names (None when unknown)."""
    return _BY_ALIAS.get(normalize_key(key))


def lookup(data: Any, path: str) -> Any:
    """A value by dotted path (`contact.email`, `answers.0.text`); an exact key with dots in it also matches."""
    if isinstance(data, dict) and path in data:
        return data[path]
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(as_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {as_text(v)}" for k, v in value.items())
    return str(value).strip()


def map_fields(flat: dict[str, Any], field_map: dict[str, str] | None = None, *, nested: Any = None) -> dict[str, str]:
    """Lead fields from a flat dict of source fields. `field_map` paths are looked up in `nested` (or `flat`)."""
    result: dict[str, str] = {}
    for field, path in (field_map or {}).items():
        if field in LEAD_FIELDS:
            result[field] = as_text(lookup(nested if nested is not None else flat, path))
    parts: dict[str, str] = {}
    for key, value in flat.items():
        known = field_for(key)
        if known in ("first_name", "last_name"):
            parts.setdefault(known, as_text(value))
        elif known and known not in result and as_text(value):
            result[known] = as_text(value)
    if "name" not in result and parts:
        result["name"] = " ".join(p for p in (parts.get("first_name"), parts.get("last_name")) if p)
    return {field: value for field, value in result.items() if value}


def typeform_answers(form_response: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A Typeform response's answers keyed by field title, ref and id (any of them can be mapped), and the values
    of answers whose type says what they are (email, phone_number)."""
    titles = {f.get("id"): f.get("title", "") for f in (form_response.get("definition") or {}).get("fields", [])}
    flat: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for answer in form_response.get("answers") or []:
        kind = answer.get("type", "")
        value = answer.get(kind)
        if kind == "choice":
            value = (value or {}).get("label") or (value or {}).get("other")
        elif kind == "choices":
            value = [*((value or {}).get("labels") or []), *filter(None, [(value or {}).get("other")])]
        elif kind == "payment":
            value = (value or {}).get("amount")
        field = answer.get("field") or {}
        for key in (field.get("ref"), field.get("id")):
            if key:
                flat.setdefault(key, value)
        if titles.get(field.get("id")):
            flat.setdefault(titles[field.get("id")], value)
        if kind == "email":
            typed.setdefault("email", as_text(value))
        elif kind == "phone_number":
            typed.setdefault("phone", as_text(value))
    for key, value in (form_response.get("hidden") or {}).items():
        flat.setdefault(key, value)
    return flat, typed
