"""The contact form on a business's own website, in Chromium: a sample page served from another origin loads it
with one <script> tag, a person sends a message and it becomes a drafted lead; a bot that fills the honeypot is
refused; when BizPilot cannot be reached the visitor is told, and what they typed is still there."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings

from bizpilot.tests.http_stub import LocalServer, StubHandler
from bizpilot.tests.processes import wait_for
from leads.models import Lead, SiteForm

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
HOT = "Hi, our boiler has stopped and we have no hot water. Can you come today? Happy to pay the callout fee."


class BusinessSite:
    """The business's own site: a page with the form's <script> tag, on an origin of its own."""

    def __init__(self, script_src: str):
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Flow Right Plumbing</title>"
            "</head><body><h1>Flow Right Plumbing</h1><p>Call us, or send a message:</p>"
            f"<div id='bizpilot-form'></div><script src='{script_src}' async></script></body></html>"
        ).encode()

        class Handler(StubHandler):
            def do_GET(self):
                self.reply(200, page, content_type="text/html; charset=utf-8")

        self.http = LocalServer(Handler).start()
        self.origin = self.http.base_url


@pytest.fixture
def business_site(live_server):
    site = BusinessSite(f"{live_server.url}/forms/site.js")
    SiteForm.objects.create(allowed_origins=site.origin, min_seconds=1, privacy_url=f"{site.origin}/privacy")
    yield site
    site.http.stop()


def fill(page, name="Ruth Okafor", email="ruth@example.com", message=HOT):
    page.wait_for_selector("#bp-field-name")
    page.fill("#bp-field-name", name)
    page.fill("#bp-field-email", email)
    page.fill("#bp-field-message", message)
    page.check("#bp-consent")


@pytest.mark.django_db(transaction=True)
def test_a_visitor_sends_the_form_from_the_business_site_and_the_lead_is_drafted(
    live_server, business_site, browser_page, demo_knowledge
):
    page = browser_page
    page.goto(business_site.origin + "/contact")
    fill(page)
    assert page.get_attribute("#bp-consent", "aria-describedby") == "bp-consent-error"
    assert page.inner_text("label[for=bp-consent]").endswith("Privacy notice")
    time.sleep(1.1)  # a person takes longer than the form's minimum
    page.click(".bp-form button[type=submit]")
    page.wait_for_selector("#bp-status.bp-good:has-text('Thank you')", timeout=15_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-form-sent.png"))
    lead = Lead.objects.get()
    assert (lead.name, lead.source, lead.metadata["consent"]["page"]) == (
        "Ruth Okafor",
        "website",
        business_site.origin + "/contact",
    )
    wait_for(
        lambda: Lead.objects.filter(pk=lead.pk, state="drafted").exists(), timeout=60, what="the lead to be drafted"
    )
    assert lead.messages.count() == 1  # its reply, drafted as any lead's

    page.set_viewport_size({"width": 360, "height": 740})  # a phone
    page.goto(business_site.origin + "/contact")
    page.wait_for_selector("#bp-field-name")
    assert page.evaluate("document.querySelector('.bp-form').getBoundingClientRect().width") <= 360


@pytest.mark.django_db(transaction=True)
def test_a_bot_that_fills_the_honeypot_is_refused(live_server, business_site, browser_page):
    page = browser_page
    page.goto(business_site.origin + "/contact")
    fill(page, name="Cheap Pills", email="bot@spam.example", message="Buy now")
    page.evaluate("document.getElementById('bp-website-url').value = 'http://spam.example'")  # as bots fill all
    time.sleep(1.1)
    page.click(".bp-form button[type=submit]")
    page.wait_for_selector("#bp-status.bp-bad:has-text('could not be sent')", timeout=10_000)
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_when_bizpilot_cannot_be_reached_the_visitor_is_told_and_keeps_what_they_typed(
    live_server, business_site, browser_page
):
    page = browser_page
    page.goto(business_site.origin + "/contact")
    fill(page)
    page.route(f"{live_server.url}/forms/site/", lambda route: route.abort())  # the server is down
    time.sleep(1.1)
    page.click(".bp-form button[type=submit]")
    page.wait_for_selector("#bp-status.bp-bad:has-text('Nothing you typed is lost')", timeout=10_000)
    assert page.input_value("#bp-field-message") == HOT and page.is_visible(".bp-form")
    page.reload()  # even a reload keeps it (localStorage), until it is sent
    page.wait_for_selector("#bp-field-message")
    assert page.input_value("#bp-field-message") == HOT
    assert not Lead.objects.exists()
