"""The operator's day in a real browser: Debian's Chromium driven by playwright against the live server.

Screenshots of the queue and the review screen are saved in test-artifacts/ (the README shows one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from bizpilot.tests.factories import UserFactory
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = "operator-pass-123"


@pytest.fixture
def drafts(transactional_db, demo_knowledge):
    UserFactory(username="olivia", password=PASSWORD, operator=True)
    made = {}
    for key, text, name in [
        (
            "hot",
            "We need a new website for our salon next month, budget approved, can we start this week?",
            "Ruth Okafor",
        ),
        ("cold", "Just browsing, nice site. <script>alert('x')</script>", "Sam Hill"),
        ("warm", "What would a website for a small bakery cost, roughly?", "Jo Park"),
    ]:
        lead = submit_lead(text, name=name)  # committed at once here, so its job has drafted it already
        lead_process(lead_id=lead.pk)  # (a no-op then; it drafts if the job did not)
        made[key] = Message.objects.get(lead=lead)
    return made


def test_an_operator_reviews_the_queue_in_a_browser(live_server, browser_page, drafts):
    page = browser_page
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/messaging/reviewqueueitem/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#bp-counts")
    counts = page.inner_text("#bp-counts")
    assert "HOT: 1" in counts.upper() and "COLD: 1" in counts.upper()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert "Ruth Okafor" in rows.nth(0).inner_text()  # hot first
    page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)

    # Edit and approve the hot draft: it is sent.
    rows.nth(0).locator("a").first.click()
    page.wait_for_selector("#bp-draft")
    assert "Most similar labelled examples" in page.inner_text("#bp-why")
    page.screenshot(path=str(ARTIFACTS / "review-screen.png"), full_page=True)
    hot = drafts["hot"]
    edited = hot.body + "\n\nP.S. Tuesday at 10 works for us."
    page.fill("#id_body", edited)
    page.click("input[name=_approve]")
    page.wait_for_selector(".messagelist")
    assert "Approved" in page.inner_text(".messagelist")
    hot.refresh_from_db()
    assert (hot.status, hot.body, hot.approved_by) == ("sent", edited, "user:olivia")
    assert [m.to for m in mail.outbox] == [[hot.to_address]]

    # Reject the cold one with a reason; its script tag is shown as text, never run.
    page.goto(f"{live_server.url}/admin/messaging/message/{drafts['cold'].pk}/change/")
    assert "<script>alert('x')</script>" in page.inner_text("#bp-lead")
    page.fill("#id_reject_reason", "Not a real inquiry")
    page.click("input[name=_reject]")
    page.wait_for_selector(".messagelist")
    cold = Message.objects.get(pk=drafts["cold"].pk)
    assert (cold.status, cold.rejected_reason) == ("rejected", "Not a real inquiry")

    # Correct the warm lead's intent: it becomes hot and teaches the classifier.
    page.goto(f"{live_server.url}/admin/messaging/message/{drafts['warm'].pk}/change/")
    page.select_option("#id_correct_intent", "hot")
    page.click("input[name=_intent]")
    page.wait_for_selector(".messagelist")
    assert Lead.objects.get(pk=drafts["warm"].lead_id).intent == "hot"

    # Settings are for admins: the operator gets a 403.
    response = page.goto(f"{live_server.url}/admin/messaging/autosendpolicy/add/")
    assert response.status == 403
    assert page.dialogs == []  # no script from a lead's text ever ran
