"""Fixtures shared by the messaging tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message, Sequence, SequenceStep
from messaging.pipeline import lead_process
from messaging.sequence_defaults import seed_default_sequences
from messaging.tests.factories import send

CHROMIUM = os.environ.get("BIZPILOT_CHROMIUM", "/usr/bin/chromium")
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


@pytest.fixture
def browser_page():
    """A headless Chromium page (the system's Chromium: `make test` installs it when it is missing)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure-chromium (make test does)"
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page
        browser.close()
        # ORM calls made while playwright's loop runs use their own connection (Django's connections are per
        # context); close it here, or the test database could not be dropped at the end of the run.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
