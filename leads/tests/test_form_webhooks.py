"""Typeform, Google Forms and generic JSON webhooks: authenticated, mapped, deduplicated; forgeries store nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from leads.models import InboundMessage, Integration, Lead
from leads.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

SECRET = "tf-secret-123"


def typeform_payload(token="tok_abc", email="ruth@okaforsalon.example"):
    """A form_response webhook body in Typeform's documented shape."""
    return {
        "event_id": "01HXYZ",
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": token,
            "submitted_at": "2026-11-24T10:00:00Z",
            "definition": {
                "id": "lT4Z3j",
                "title": "Get a quote",
                "fields": [
                    {"id": "f1", "ref": "who", "type": "short_text", "title": "What's your name?"},
                    {"id": "f2", "ref": "mail", "type": "email", "title": "Where can we reach you?"},
                    {"id": "f3", "ref": "biz", "type": "short_text", "title": "Company"},
                    {"id": "f4", "ref": "need", "type": "long_text", "title": "What do you need?"},
                    {"id": "f5", "ref": "budget", "type": "multiple_choice", "title": "Budget"},
                ],
            },
            "answers": [
                {"type": "text", "text": "Ruth Okafor", "field": {"id": "f1", "type": "short_text", "ref": "who"}},
                {"type": "email", "email": email, "field": {"id": "f2", "type": "email", "ref": "mail"}},
                {"type": "text", "text": "Okafor Salon", "field": {"id": "f3", "type": "short_text", "ref": "biz"}},
                {
                    "type": "text",
                    "text": "A booking site before Christmas",
                    "field": {"id": "f4", "ref": "need", "type": "long_text"},
                },
                {
                    "type": "choice",
                    "choice": {"label": "£3-5k"},
                    "field": {"id": "f5", "ref": "budget", "type": "multiple_choice"},
                },
            ],
        },
    }


def typeform_signature(body: bytes, secret: str = SECRET) -> str:
    # As Typeform documents it: base64 of the HMAC-SHA256 of the raw payload, prefixed with "sha256=".
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def typeform(db):
    return IntegrationFactory(
        name="Quote form", slug="quote", kind="typeform", secret=SECRET, field_map={"name": "who", "message": "need"}
    )


def post_typeform(client, payload, signature=None, slug="quote"):
    body = json.dumps(payload).encode()
    headers = {} if signature == "" else {"HTTP_TYPEFORM_SIGNATURE": signature or typeform_signature(body)}
    return client.post(f"/webhooks/typeform/{slug}/", body, content_type="application/json", **headers)


def test_a_typeform_response_becomes_a_lead_with_mapped_fields(client, typeform):
    response = post_typeform(client, typeform_payload())
    assert response.status_code == 200 and response.json()["outcome"] == "new"
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.company, lead.source) == (
        "Ruth Okafor",
        "ruth@okaforsalon.example",
        "Okafor Salon",
        "quote",
    )
    inbound = lead.inbound_messages.get()
    assert inbound.body == "A booking site before Christmas"
    assert (inbound.channel, inbound.provider_message_id) == ("typeform:quote", "tok_abc")
    assert inbound.raw_payload["form_response"]["form_id"] == "lT4Z3j"
    assert Integration.objects.get().last_received_at is not None


def test_typeform_retrying_the_same_response_creates_nothing(client, typeform):
    post_typeform(client, typeform_payload())
    again = post_typeform(client, typeform_payload())
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert (Lead.objects.count(), InboundMessage.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    "signature", ["", "sha256=AAAA", typeform_signature(b"{}"), typeform_signature(b"x", secret="wrong")]
)
def test_a_forged_or_missing_typeform_signature_is_refused_and_nothing_stored(client, typeform, signature):
    response = post_typeform(client, typeform_payload(), signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Lead.objects.count() == 0 and InboundMessage.objects.count() == 0


def test_an_unknown_or_inactive_integration_is_404(client, typeform):
    assert post_typeform(client, typeform_payload(), slug="nope").status_code == 404
    Integration.objects.update(active=False)
    assert post_typeform(client, typeform_payload()).status_code == 404


def test_a_response_without_contact_details_is_refused_with_field_errors(client, typeform):
    payload = typeform_payload()
    payload["form_response"]["answers"] = payload["form_response"]["answers"][:1]
    response = post_typeform(client, payload)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"email", "phone"}
    assert Lead.objects.count() == 0


def test_google_forms_posts_answers_by_question_title_with_its_secret_header(client, db):
    IntegrationFactory(name="Contact", slug="contact-form", kind="google_forms", secret="gf-secret")
    answers = {"Full name": "Tom Baker", "Mobile": "07700 900123", "How can we help?": "A menu site"}
    payload = {"responseId": "ACYDBNj", "timestamp": "2026-11-24T10:00:00Z", "answers": answers}
    body = json.dumps(payload)
    forged = client.post(
        "/webhooks/forms/contact-form/", body, content_type="application/json", HTTP_X_BIZPILOT_SECRET="guess"
    )
    assert forged.status_code == 403 and Lead.objects.count() == 0
    response = client.post(
        "/webhooks/forms/contact-form/", body, content_type="application/json", HTTP_X_BIZPILOT_SECRET="gf-secret"
    )
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.preferred_channel) == ("Tom Baker", "+447700900123", "sms")
    assert lead.inbound_messages.get().body == "A menu site"


def test_a_generic_json_webhook_is_signed_with_hmac_and_mapped_by_dotted_paths(client, db):
    IntegrationFactory(
        name="Site",
        slug="site",
        kind="json",
        secret="k3y",
        field_map={"email": "contact.email", "message": "form.text"},
    )
    body = json.dumps(
        {
            "id": "evt_1",
            "contact": {"email": "jo@bakery.example", "name": "Jo"},
            "form": {"text": "Need online ordering"},
        }
    ).encode()
    good = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    bad = "sha256=" + hmac.new(b"k3y", body + b" ", hashlib.sha256).hexdigest()
    assert (
        client.post(
            "/webhooks/forms/site/", body, content_type="application/json", HTTP_X_BIZPILOT_SIGNATURE=bad
        ).status_code
        == 403
    )
    response = client.post(
        "/webhooks/forms/site/", body, content_type="application/json", HTTP_X_BIZPILOT_SIGNATURE=good
    )
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.lead.email, inbound.body, inbound.provider_message_id) == (
        "jo@bakery.example",
        "Need online ordering",
        "evt_1",
    )


def test_malformed_json_is_a_400_after_authentication(client, db):
    IntegrationFactory(name="Site", slug="site", kind="json", secret="k3y")
    body = b"{not json"
    signature = "sha256=" + hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    response = client.post(
        "/webhooks/forms/site/", body, content_type="application/json", HTTP_X_BIZPILOT_SIGNATURE=signature
    )
    assert response.status_code == 400 and Lead.objects.count() == 0
