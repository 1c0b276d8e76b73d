"""Test data made through the public services, so every test lead is one the product could have stored."""

from __future__ import annotations

from leads.models import Lead
from leads.services import LeadInput, lead_ingest


def submit_lead(message: str = "We need a new website, can you quote?", **fields: str) -> Lead:
    """A lead as the API would store it (an email address unless fields say otherwise)."""
    fields.setdefault("email", "lead@customer.example")
    return lead_ingest(
        data=LeadInput(message=message, **fields),
        channel="api",
        actor="api_key:tests",
        raw_payload={"message": message},
    )
