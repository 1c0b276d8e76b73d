"""Test data made through the public services, so every test lead is one the product could have stored."""

from __future__ import annotations

import itertools

from leads.models import Lead
from leads.services import LeadInput, lead_ingest

_numbers = itertools.count(1)


def submit_lead(message: str = "We need a new website, can you quote?", **fields: str) -> Lead:
    """A lead as the API would store it: a new person each time (their own email address) unless fields say
    otherwise."""
    if "email" not in fields and "phone" not in fields:
        fields["email"] = f"lead{next(_numbers)}@customer.example"
    return lead_ingest(
        data=LeadInput(message=message, **fields),
        channel="api",
        actor="api_key:tests",
        raw_payload={"message": message},
    )
