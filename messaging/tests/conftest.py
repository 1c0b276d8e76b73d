"""Fixtures shared by the messaging tests."""

from __future__ import annotations

import pytest

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message, Sequence, SequenceStep
from messaging.pipeline import lead_process
from messaging.sequence_defaults import seed_default_sequences
from messaging.tests.factories import send

HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


@pytest.fixture
def contacted_lead(demo_knowledge) -> Lead:
    """A hot lead with an email address and a phone number it agreed to be texted on, whose first reply was sent."""
    seed_default_sequences(Sequence, SequenceStep)  # (a transactional test's flush removes the migration's rows)
    lead = submit_lead(
        HOT, name="Sam Lee", email="sam@salon.example", phone="+447700900123", metadata={"text_consent": True}
    )
    lead_process(lead_id=lead.pk)  # (in transactional tests the on-commit job has already done it)
    first = Message.objects.get(lead=lead)
    assert send(first).status == Message.Status.SENT
    lead.refresh_from_db()
    assert lead.intent == "hot" and lead.state == Lead.State.CONTACTED
    return lead
