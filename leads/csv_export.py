"""Leads as CSV: one row per lead with its intent, stage, source and outcome, streamed from a server-side cursor in
chunks, so 100,000 leads export in constant memory (bench/csv_export.py). The same rows for the admin (the list's
own filters and search) and the API (its query parameters). A value that a spreadsheet would run as a formula
(starting with =, +, - or @) is written with a leading apostrophe."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet

from bizpilot.business import business_zone
from leads.models import Lead

# (CSV column, Lead field): the outcome is read from the stage.
COLUMN_FIELDS = [
    ("id", "id"),
    ("created_at", "created_at"),
    ("source", "source"),
    ("channel", "preferred_channel"),
    ("stage", "state"),
    ("intent", "intent"),
    ("confidence", "intent_confidence"),
    ("outcome", "state"),
    ("contacted_at", "contacted_at"),
    ("replied_at", "replied_at"),
    ("meeting_booked_at", "meeting_booked_at"),
    ("converted_at", "converted_at"),
    ("name", "name"),
    ("email", "email"),
    ("phone", "phone"),
    ("company", "company"),
]
COLUMNS = [column for column, _ in COLUMN_FIELDS]
FIELDS = [field for _, field in COLUMN_FIELDS]
OUTCOMES = {"converted": "won", "lost": "lost", "unsubscribed": "unsubscribed"}
CHUNK = 2000


class _Line:
    """A file-like object whose write returns the line written (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if column == "confidence":
        return f"{value:.4f}"
    if column == "outcome":
        return OUTCOMES.get(value, "open")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def leads_csv_lines(leads: QuerySet[Lead]) -> Iterator[str]:
    """The CSV, line by line: a header, then each lead (erased people are left out), oldest first."""
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    rows = leads.filter(erased_at__isnull=True).order_by("id").values_list(*FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow([_cell(value, column) for value, column in zip(row, COLUMNS, strict=True)])


def leads_filtered(
    *,
    state: str = "",
    intent: str = "",
    source: str = "",
    created_after: date | None = None,
    created_before: date | None = None,
) -> QuerySet[Lead]:
    """The leads the API's filters select (the admin list's own filters do the same in the admin)."""
    leads = Lead.objects.all()
    if state:
        leads = leads.filter(state=state)
    if intent:
        leads = leads.filter(intent=intent)
    if source:
        leads = leads.filter(source=source)
    zone = business_zone()  # the dates are the business's days, whoever asks and from wherever
    if created_after:
        leads = leads.filter(created_at__gte=datetime.combine(created_after, time(0), tzinfo=zone))
    if created_before:
        leads = leads.filter(created_at__lt=datetime.combine(created_before + timedelta(days=1), time(0), tzinfo=zone))
    return leads
