"""The website form's endpoint: only the business's own sites may post (CORS), a bot is refused (honeypot, too
fast, too many, no captcha), a person's message becomes a lead with their consent recorded, and a retried send adds
nothing."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from bizpilot.tests.http_stub import LocalServer, StubHandler
from leads.models import Lead, SiteForm
from leads.site_form import form_token

pytestmark = pytest.mark.django_db
SITE = "https://flowright.example"


@pytest.fixture
def site_form():
    return SiteForm.objects.create(allowed_origins=f"{SITE}\nhttps://www.flowright.example", min_seconds=0)


def send(client, origin=SITE, **fields):
    body = {
        "token": form_token(),
        "submission": "s-1",
        "consent": True,
        "page": f"{SITE}/contact",
        "website_url": "",
        "name": "Ruth Okafor",
        "email": "ruth@example.com",
        "message": "Our kitchen tap is leaking, can you come tomorrow?",
        **fields,
    }
    return client.post("/forms/site/", json.dumps(body), content_type="application/json", headers={"Origin": origin})


def test_the_script_carries_the_form_and_a_fresh_token(client, site_form):
    script = client.get("/forms/site.js")
    assert script["Content-Type"].startswith("application/javascript") and script["Cache-Control"] == "no-store"
    text = script.content.decode()
    assert "function bizpilotForm(config, script)" in text and '"endpoint": "http://testserver/forms/site/"' in text
    assert text.count('"token": "') == 1
    SiteForm.objects.update(is_active=False)
    assert "not set up" in client.get("/forms/site.js").content.decode()


def test_a_persons_message_becomes_a_lead_with_their_consent_and_a_retry_adds_nothing(client, site_form):
    answer = send(client)
    assert answer.status_code == 200 and answer.json()["message"].startswith("Thank you")
    assert answer["Access-Control-Allow-Origin"] == SITE
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.source) == ("Ruth Okafor", "ruth@example.com", "website")
    consent = lead.metadata["consent"]
    assert consent["page"] == f"{SITE}/contact" and consent["text"].startswith("I agree") and consent["at"]
    assert lead.inbound_messages.get().channel == "website"
    assert send(client).status_code == 200 and Lead.objects.count() == 1  # the same submission again
    assert lead.inbound_messages.count() == 1


def test_only_the_businesss_own_sites_may_post(client, site_form):
    preflight = client.options("/forms/site/", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SITE
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    stranger = client.options("/forms/site/", headers={"Origin": "https://evil.example"})
    assert stranger.status_code == 403 and "Access-Control-Allow-Origin" not in stranger
    refused = send(client, origin="https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert not Lead.objects.exists()


def test_bots_are_refused_and_nothing_is_stored(client, site_form):
    trapped = send(client, website_url="http://spam.example")
    assert trapped.status_code == 400 and trapped.json()["error"]["message"] == "Your message could not be sent."
    SiteForm.objects.update(min_seconds=30)
    fast = send(client)
    assert fast.status_code == 400 and "quicker than anyone types" in fast.json()["error"]["message"]
    SiteForm.objects.update(min_seconds=0)
    forged = send(client, token="made-up")
    assert forged.status_code == 400 and "expired" in forged.json()["error"]["message"]
    assert not Lead.objects.exists()


def test_too_many_from_one_address_wait_an_hour(client, site_form):
    SiteForm.objects.update(per_hour=2)
    assert [send(client, submission=f"s-{n}", email=f"p{n}@example.com").status_code for n in range(3)] == [
        200,
        200,
        429,
    ]
    assert Lead.objects.count() == 2


def test_consent_and_the_fields_are_checked_with_a_message_for_each(client, site_form):
    SiteForm.objects.update(required=["name", "message"])
    answer = send(client, consent=False)
    assert answer.status_code == 400 and answer.json()["error"]["fields"] == {"consent": ["Needed to reply to you."]}
    answer = send(client, name=" ", email="not-an-email")
    fields = answer.json()["error"]["fields"]
    assert fields["name"] == ["Please fill this in."] and fields["email"] == ["Enter a valid email address."]
    assert not Lead.objects.exists()


class Siteverify:
    """Cloudflare's siteverify, locally: `success` for the one token it issued."""

    def __init__(self):
        self.calls: list[dict] = []
        stub = self

        class Handler(StubHandler):
            def do_POST(self):
                form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
                stub.calls.append(form)
                ok = form.get("secret") == "ts-secret" and form.get("response") == "human-token"
                self.reply(200, {"success": ok, "error-codes": [] if ok else ["invalid-input-response"]})

        self.http = LocalServer(Handler).start()
        self.url = f"{self.http.base_url}/turnstile/v0/siteverify"


def test_turnstile_is_verified_on_the_server(client, site_form, settings):
    stub = Siteverify()
    settings.TURNSTILE_VERIFY_URL = stub.url
    SiteForm.objects.update(captcha="turnstile", captcha_site_key="0x4AAA", captcha_secret="ts-secret")
    try:
        refused = send(client, captcha="bot-token")
        assert refused.status_code == 400 and refused.json()["error"]["fields"] == {"captcha": ["Not confirmed."]}
        assert send(client, captcha="human-token", submission="s-2").status_code == 200
    finally:
        stub.http.stop()
    assert [call["response"] for call in stub.calls] == ["bot-token", "human-token"]
    assert Lead.objects.count() == 1
