"""Alerts in tests: email through anymail's SendGrid backend, texts through the `twilio` client and a Slack
incoming webhook, each against a local stub that speaks its wire format; three people on the escalation list."""

from __future__ import annotations

import pytest

from alerts.models import AlertRecipient, TeamWebhook
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from messaging.tests.conftest import browser_page, contacted_lead  # noqa: F401 (shared fixtures)
from messaging.tests.test_email_tracking import sendgrid  # noqa: F401 (SendGrid's API served by a local stub)

HOT = "We need a new website for our salon next month, budget approved, can we start this week?"
LEAD = {"name": "Priya Raman", "email": "priya@ramansalon.example", "phone": "+447700900777", "company": "Raman Hair"}


@pytest.fixture
def slack(db):
    """A Slack incoming webhook: answers 200 "ok" as Slack does."""
    stub = AnthropicStub().start()
    stub.queue(StubResponse(200, None, headers={"Content-Type": "text/plain"}))
    hook = TeamWebhook.objects.create(
        name="#sales", kind=TeamWebhook.Kind.SLACK, url=f"{stub.base_url}/services/T1/B1/x"
    )
    stub.webhook = hook
    yield stub
    stub.stop()


@pytest.fixture
def people(db, settings):
    settings.PUBLIC_BASE_URL = "https://bizpilot.example.com"
    ann = AlertRecipient.objects.create(
        name="Ann", email="ann@northwind.example", phone="+447700900001", channels=["email", "sms", "browser"]
    )
    ben = AlertRecipient.objects.create(
        name="Ben", email="ben@northwind.example", on_duty=False, escalation_order=1, channels=["email"]
    )
    cara = AlertRecipient.objects.create(
        name="Cara", email="cara@northwind.example", on_duty=False, is_admin=True, channels=["email"]
    )
    return {"ann": ann, "ben": ben, "cara": cara}


def sent_emails(stub: AnthropicStub) -> list[dict]:
    """The emails SendGrid's v3 mail/send API received: [{"to": [...], "subject": ..., "text": ...}]."""
    found = []
    for request in stub.requests:
        if request.path.endswith("/mail/send"):
            body = request.body
            text = next((c["value"] for c in body.get("content", []) if c["type"] == "text/plain"), "")
            to = [t["email"] for p in body["personalizations"] for t in p["to"]]
            found.append({"to": to, "subject": body.get("subject", ""), "text": text, "raw": request.raw})
    return found
