"""Test data made through the public services, so every test lead is one the product could have stored."""

from __future__ import annotations

from typing import Any, cast

import factory
from factory.django import DjangoModelFactory

from leads.ingest import LeadInput, lead_ingest
from leads.models import Integration, Lead


class LeadFactory(factory.Factory):
    """A lead as the API would store it (through `lead_ingest`): a new person each time, with their own email
    address, unless the fields say otherwise."""

    class Meta:
        model = LeadInput

    message = "We need a new website, can you quote?"
    phone = ""
    email = factory.LazyAttributeSequence(lambda o, n: "" if o.phone else f"lead{n}@customer.example")

    @classmethod
    def _create(cls, model_class: type[LeadInput], *args: Any, **kwargs: Any) -> Lead:
        return lead_ingest(
            data=model_class(**kwargs),
            channel="api",
            actor="api_key:tests",
            raw_payload={"message": kwargs["message"]},
        )


def submit_lead(message: str = "We need a new website, can you quote?", **fields: Any) -> Lead:
    """A new lead that wrote `message` (shorthand for LeadFactory)."""
    return cast(Lead, LeadFactory(message=message, **fields))


class IntegrationFactory(DjangoModelFactory):
    """A webhook integration (generic JSON unless `kind` says otherwise)."""

    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Form {n}")
    slug = factory.Sequence(lambda n: f"form-{n}")
    kind = Integration.Kind.JSON
    secret = factory.Sequence(lambda n: f"secret-{n}")
