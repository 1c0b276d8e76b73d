"""PII redaction for text that leaves the machine (LLM prompts): emails, phone numbers, postal addresses, card-like
numbers and the lead's name become placeholders such as [EMAIL_1] or [NAME], and are put back in the reply."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{5,}\d(?!\w)")
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){1,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Close|Place|Pl|Terrace|Crescent|"
    r"Square|Sq|Parade|Gardens|Grove|Hill|Row|Mews)\b\.?"
)
US_ZIP = re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")
PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|CARD|ADDRESS|POSTCODE)_\d+\]|\[(?:NAME|FIRST_NAME|LAST_NAME)\]")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class Redactor:
    """Replaces PII consistently (the same email is always [EMAIL_1]) and restores it in text that comes back."""

    def __init__(self, *, name: str = ""):
        self.originals: dict[str, str] = {}  # placeholder -> original
        self._placeholders: dict[tuple[str, str], str] = {}  # (kind, original) -> placeholder
        parts = [p for p in re.split(r"\s+", name.strip()) if len(p) >= 2]
        self._names: list[tuple[str, str]] = []
        if len(parts) >= 2:
            self._names.append((" ".join(parts), "[NAME]"))
            self._names.append((parts[0], "[FIRST_NAME]"))
            self._names.append((parts[-1], "[LAST_NAME]"))
        elif parts:
            self._names.append((parts[0], "[NAME]"))
            self._names.append((parts[0], "[FIRST_NAME]"))
        # The reply may greet by first name even if the lead only wrote the full one: every name placeholder restores.
        for original, placeholder in self._names:
            self.originals.setdefault(placeholder, original)

    def _placeholder(self, kind: str, original: str) -> str:
        key = (kind, original.lower())
        if key not in self._placeholders:
            count = sum(1 for k, _ in self._placeholders if k == kind) + 1
            placeholder = f"[{kind}_{count}]"
            self._placeholders[key] = placeholder
            self.originals[placeholder] = original
        return self._placeholders[key]

    def redact(self, text: str) -> str:
        if not text:
            return text
        text = EMAIL.sub(lambda m: self._placeholder("EMAIL", m.group()), text)

        def card(match: re.Match) -> str:
            digits = re.sub(r"\D", "", match.group())
            return self._placeholder("CARD", match.group()) if luhn_valid(digits) else match.group()

        text = CARD.sub(card, text)

        def phone(match: re.Match) -> str:
            digits = re.sub(r"\D", "", match.group())
            return self._placeholder("PHONE", match.group()) if 7 <= len(digits) <= 15 else match.group()

        text = PHONE.sub(phone, text)
        text = STREET.sub(lambda m: self._placeholder("ADDRESS", m.group()), text)
        text = UK_POSTCODE.sub(lambda m: self._placeholder("POSTCODE", m.group()), text)
        text = US_ZIP.sub(lambda m: self._placeholder("POSTCODE", m.group()), text)
        for original, placeholder in self._names:
            pattern = re.compile(rf"(?<!\w){re.escape(original)}(?!\w)", re.IGNORECASE)
            text = pattern.sub(placeholder, text)
        return text

    def restore(self, text: str) -> str:
        """Put the originals back; a placeholder the redactor never issued is left for the draft checks to flag."""
        return PLACEHOLDER.sub(lambda m: self.originals.get(m.group(), m.group()), text)


def unfilled_placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)
