"""The setup page: a trade's starter pack applied (wording, follow-ups, auto-send confidence, examples; again changes
nothing; another trade replaces it), its FAQ to fill in, the channel step's test email and text through the real
sending path, and Twilio's and SendGrid's signed requests checked against BizPilot's own webhooks."""

from __future__ import annotations

import csv
import io

import pytest
from django.core import mail

from intelligence.classification import classify_text
from intelligence.models import IntentExample, PromptTemplate
from intelligence.prompt_templates import prompt_template_live
from leads.models import Integration, Lead
from messaging.models import AutoSendPolicy, Sequence
from onboarding.pack_data import PACKS

pytestmark = pytest.mark.django_db


def test_every_trade_the_issue_names_has_a_complete_pack():
    keys = {pack.key for pack in PACKS}
    assert keys >= {"web_agency", "beauty", "trades", "clinic", "tutoring", "restaurant", "fitness", "photography"}
    assert keys >= {"real_estate", "saas", "cleaning"}
    for pack in PACKS:
        intents = [intent for _, intent in pack.examples]
        assert (intents.count("hot"), intents.count("warm"), intents.count("cold")) == (2, 2, 2), pack.key
        assert (
            len(pack.questions) >= 5
            and 0.8 <= pack.threshold <= 0.95
            and pack.follow_up_days == tuple(sorted(pack.follow_up_days))
        )


def test_a_plumber_applies_the_trades_pack_once_and_a_change_of_trade_replaces_it(admin_client, demo_knowledge):
    page = admin_client.post("/admin/setup/", {"action": "pack", "pack": "trades"}).content.decode()
    assert "Starter pack applied: 6 template(s), 2 sequence(s), 6 example(s) added." in page
    hot = prompt_template_live(intent="hot", channel="email")
    assert hot.instructions.endswith("say how soon you can come and ask for the address.")
    assert "For this trade (Trades: plumber, electrician, builder): Ask for the postcode" in hot.instructions
    sequence = Sequence.objects.get(intent="hot", active=True)
    assert sequence.name == "Trades: plumber, electrician, builder: hot leads"
    assert [step.delay.days for step in sequence.steps.order_by("position")] == [1, 3]
    assert AutoSendPolicy.current().threshold == 0.9
    assert IntentExample.objects.filter(origin="pack").count() == 6
    result = classify_text(text="My boiler has stopped and there is no hot water, can you come out today?")
    assert result.intent == "hot"

    versions = PromptTemplate.objects.count()
    again = admin_client.post("/admin/setup/", {"action": "pack", "pack": "trades"}).content.decode()
    assert "0 template(s), 0 sequence(s), 0 example(s)" in again and PromptTemplate.objects.count() == versions

    admin_client.post("/admin/setup/", {"action": "pack", "pack": "cleaning"})
    hot = prompt_template_live(intent="hot", channel="email")
    assert hot.instructions.count("For this trade") == 1 and "(Cleaning)" in hot.instructions
    assert Sequence.objects.get(intent="hot", active=True).name == "Cleaning: hot leads"


def test_the_pack_faq_is_a_csv_to_fill_in_and_import(admin_client):
    page = admin_client.post("/admin/setup/", {"action": "pack", "pack": "trades"}).content.decode()
    assert 'href="?faq=trades"' in page and "How much is a callout?" in page
    rows = list(csv.reader(io.StringIO(admin_client.get("/admin/setup/?faq=trades").content.decode())))
    assert rows[0] == ["question", "answer"] and ["How much is a callout?", ""] in rows and len(rows) == 6


def test_the_channel_step_sends_a_test_email_and_text_and_checks_the_signed_requests(admin_client, settings):
    page = admin_client.get("/admin/setup/").content.decode()
    assert f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/messages/" in page and "/forms/site.js" in page
    sent = admin_client.post("/admin/setup/", {"action": "test_email", "to": "dan@flowright.example"})
    assert "Sent to dan@flowright.example" in sent.content.decode()
    (email,) = mail.outbox
    assert email.to == ["dan@flowright.example"] and "test email" in email.subject
    text = admin_client.post("/admin/setup/", {"action": "test_sms", "to": "+447700900123"}).content.decode()
    assert "Sent to +447700900123 through" in text
    refused = admin_client.post("/admin/setup/", {"action": "test_email", "to": "nobody"}).content.decode()
    assert "An email address to send the test to." in refused

    settings.TWILIO_AUTH_TOKEN = ""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    missing = admin_client.post("/admin/setup/", {"action": "check"}).content.decode()
    assert "TWILIO_AUTH_TOKEN is not set" in missing and "ANYMAIL_WEBHOOK_SECRET (user:password) is not set" in missing
    settings.TWILIO_AUTH_TOKEN = "twilio-token"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "bizpilot:hook-pass"}
    Integration.objects.create(name="Quote form", slug="quote", kind="typeform", secret="tf-secret")
    checked = admin_client.post("/admin/setup/", {"action": "check"}).content.decode()
    section = checked[checked.index('id="bp-checks"') :].split("</ul>")[0]
    assert section.count("Accepted.") == 2 and "Typeform &#x27;quote&#x27; (Typeform-Signature): Accepted" in section
    assert not Lead.objects.exists()  # the checks store nothing
