"""A plumber sets BizPilot up from an empty install, in Chromium, the way the setup leads them: the business
profile, a PDF price list and an FAQ CSV, the trade's starter pack, a test email, then a lead's message pasted into
Try it, whose draft quotes the plumber's own callout price. The run records the time and the number of screens from
the first page to that draft (docs/onboarding.md reports them) and a screenshot of each screen."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail

from intelligence.models import KnowledgeDocument
from intelligence.tests.documents import pdf_bytes

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = "plumber-pass-123"
LEAD = "Hi, water is coming through our kitchen ceiling. How much is an emergency callout and can you come today?"
PRICES = [
    ["Flow Right Plumbing: prices 2026", "All prices include VAT and a 12-month guarantee."],
    ["Emergency callout: £95, including the first hour. We aim to arrive within two hours, day or night."],
    ["Boiler service: £85. Radiator bleed and balance: £60. Tap washer replacement: £55."],
]
FAQ = (
    "question,answer\n"
    "Which areas do you cover?,Leeds and 20 miles around.\n"
    "Are you Gas Safe registered?,Yes: every engineer is Gas Safe registered.\n"
    "Do you charge for quotes?,No: quotes are free.\n"
)


@pytest.mark.django_db(transaction=True)
def test_a_plumber_sets_up_from_an_empty_install_and_a_pasted_lead_is_drafted_with_their_price(
    live_server, browser_page, demo_knowledge, tmp_path
):
    KnowledgeDocument.objects.all().delete()  # an empty install: the shared intent examples only (setup_install)
    get_user_model().objects.create_superuser("dan", "dan@flowright.example", PASSWORD)
    (tmp_path / "prices.pdf").write_bytes(pdf_bytes(PRICES))
    (tmp_path / "faq.csv").write_text(FAQ)
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page
    screens: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and screens.append(frame.url))

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"onboarding-{len(screens):02d}-{name}.png"))

    started = time.monotonic()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "dan")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#bp-checklist")
    shot("home")
    page.click("#bp-setup-link")

    # 1. The business.
    page.click("#bp-step-1 a.button")
    page.fill("#id_name", "Flow Right Plumbing")
    page.fill("#id_sender_name", "Dan")
    page.fill("#id_from_email", "Flow Right Plumbing <hello@flowright.example>")
    page.fill("#id_offering", "plumbing repairs, boilers and bathrooms")
    page.fill("#id_area", "Leeds and 20 miles around")
    page.fill("#id_opening_hours", "Mon-Sat 8:00-18:00, emergencies 24/7")
    page.select_option("#id_time_zone", "Europe/London")
    shot("business")
    page.click("input[name=_save]")

    # 2. Knowledge: the price list, then the FAQ.
    for upload in ("prices.pdf", "faq.csv"):
        page.goto(f"{live_server.url}/admin/setup/")
        page.click("#bp-step-2 a.button")
        page.set_input_files("#id_file", str(tmp_path / upload))
        shot(f"import-{upload}")
        page.click("input[name=_save]")
        page.wait_for_selector("text=Importing")
    page.goto(f"{live_server.url}/admin/intelligence/knowledgeimport/")
    assert page.inner_text("#result_list").count("Done") == 2  # each imported while the page came back
    page.goto(f"{live_server.url}/admin/setup/")

    # 3. The trade's starter pack.
    page.select_option("#bp-pack", "trades")
    page.click("#bp-step-trade button[type=submit]")
    page.wait_for_selector("#bp-pack-faq")

    # 4. Channels: a test email to the owner.
    page.fill("#bp-test-email", "dan@flowright.example")
    page.click("form:has(#bp-test-email) button[type=submit]")
    page.wait_for_selector("#bp-setup-done:has-text('Sent to dan@flowright.example')")
    shot("setup")

    # 6. Try it: a lead's message, drafted as a real lead would get it.
    page.click("#bp-step-try a.button")
    page.fill("#bp-try-message", LEAD)
    page.fill("#bp-try-name", "Sam")
    page.click("#bp-try button[type=submit]")
    page.wait_for_selector("#bp-try-draft")
    took = time.monotonic() - started
    shot("try-it")
    draft = page.inner_text("#bp-try-draft")
    intent = page.inner_text("#bp-try-intent")
    assert "£95" in draft, draft  # the plumber's own price, from the PDF they uploaded
    assert "Flow Right Plumbing" in draft or "Dan" in draft, draft
    assert intent.startswith("hot"), intent
    assert [m.to for m in mail.outbox] == [["dan@flowright.example"]]
    report = {
        "seconds": round(took, 1),
        "screens": len(screens),
        "urls": [u.split(live_server.url)[-1] for u in screens],
    }
    (ARTIFACTS / "onboarding.json").write_text(json.dumps(report, indent=1))
    print("onboarding:", json.dumps(report))
