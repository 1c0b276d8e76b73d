"""Email out through anymail's SendGrid backend (against a local stub of SendGrid's API) and back through anymail's
SendGrid tracking webhook: events deduplicated, machine opens and scanner clicks flagged, bounces suppressed."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from leads.tests.factories import submit_lead
from messaging.models import DeliveryEvent, Message, Suppression
from messaging.pipeline import lead_process
from messaging.review import message_approve
from messaging.sending import message_send

pytestmark = pytest.mark.django_db

AUTH = "sendgrid:tracking-secret"


@pytest.fixture
def sendgrid(settings):
    stub = AnthropicStub().start()
    stub.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-batch-1"}))
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{stub.base_url}/v3/",
        "WEBHOOK_SECRET": AUTH,
    }
    settings.PUBLIC_BASE_URL = "https://bizpilot.example.com"
    yield stub
    stub.stop()


@pytest.fixture
def sent(sendgrid, demo_knowledge) -> Message:
    lead = submit_lead("We need a website for our salon", name="Ruth Okafor", email="ruth@okaforsalon.example")
    message = lead_process(lead_id=lead.pk)
    assert message is not None
    message_approve(message_id=message.pk, actor="user:op")
    return message_send(message_id=message.pk)


def events(client, *items, auth=AUTH):
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post(
        "/anymail/sendgrid/tracking/", json.dumps(list(items)), content_type="application/json", **headers
    )


def sg_event(message: Message, event: str, seconds_after_send: float, event_id: str, **extra) -> dict:
    """One event as SendGrid's Event Webhook posts it; custom_args (anymail_id, our message id) come back in it."""
    assert message.sent_at is not None
    return {
        "email": message.to_address,
        "event": event,
        "sg_event_id": event_id,
        "sg_message_id": "sg-batch-1.filter0001",
        "anymail_id": message.provider_message_id,
        "bizpilot_message_id": str(message.pk),
        "timestamp": int((message.sent_at + timedelta(seconds=seconds_after_send)).timestamp()),
        **extra,
    }


def test_the_email_goes_out_through_sendgrids_api_with_one_click_unsubscribe(sent, sendgrid):
    assert sent.status == "sent" and sent.provider_message_id
    request = sendgrid.requests[0]
    assert request.path == "/v3/mail/send" and request.headers["authorization"] == "Bearer SG.test-key"
    body = request.body
    assert body["personalizations"][0]["to"] == [{"email": "ruth@okaforsalon.example"}]
    assert body["personalizations"][0]["custom_args"] == {"anymail_id": sent.provider_message_id}
    assert body["custom_args"] == {"bizpilot_message_id": str(sent.pk)}  # comes back on every tracking event
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = body["headers"]["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://bizpilot.example.com/unsubscribe/")
    assert unsubscribe in body["content"][0]["value"] and sent.body in body["content"][0]["value"]


def test_people_and_machines_are_told_apart(client, sent):
    response = events(
        client,
        sg_event(sent, "delivered", 1, "ev-1"),
        sg_event(sent, "open", 2, "ev-2", sg_machine_open=True, useragent="Mozilla/5.0"),
        sg_event(sent, "click", 4, "ev-3", url="https://northwind.example/work", useragent="Mozilla/5.0"),
        sg_event(sent, "click", 600, "ev-4", url="https://northwind.example/a", useragent="Mimecast-Scanner/2.0"),
        sg_event(sent, "open", 900, "ev-5", useragent="Mozilla/5.0 (Windows NT 10.0)"),
        sg_event(sent, "click", 1200, "ev-6", url="https://northwind.example/a", useragent="Mozilla/5.0"),
        sg_event(sent, "click", 1200, "ev-7", url="https://northwind.example/b", useragent="Mozilla/5.0"),
        sg_event(sent, "click", 1201, "ev-8", url="https://northwind.example/c", useragent="Mozilla/5.0"),
        sg_event(sent, "click", 3600, "ev-9", url="https://northwind.example/work", useragent="Mozilla/5.0"),
    )
    assert response.status_code == 200
    flagged = dict(DeliveryEvent.objects.exclude(event_type="sent").values_list("provider_event_id", "is_machine"))
    assert flagged == {
        "ev-1": False,
        "ev-2": True,
        "ev-3": True,
        "ev-4": True,
        "ev-5": False,
        "ev-6": True,
        "ev-7": True,
        "ev-8": True,
        "ev-9": False,
    }
    reasons = dict(DeliveryEvent.objects.values_list("provider_event_id", "machine_reason"))
    assert "machine open" in reasons["ev-2"] and "after delivery" in reasons["ev-3"]
    assert "user agent" in reasons["ev-4"] and "links clicked at once" in reasons["ev-7"]
    assert Message.objects.get(pk=sent.pk).status == "delivered"


def test_engagement_rates_count_people_only(client, sent, api):
    events(client, sg_event(sent, "delivered", 1, "ev-1"), sg_event(sent, "open", 2, "ev-2", sg_machine_open=True))
    metrics = api.get("/api/dashboard/metrics/").json()
    assert (metrics["emails_sent"], metrics["open_rate"], metrics["machine_events"]) == (1, 0.0, 1)
    events(client, sg_event(sent, "open", 900, "ev-3", useragent="Mozilla/5.0"))
    assert api.get("/api/dashboard/metrics/").json()["open_rate"] == 1.0


def test_a_replayed_event_is_recorded_once(client, sent):
    for _ in range(3):
        events(client, sg_event(sent, "delivered", 1, "ev-1"))
    assert DeliveryEvent.objects.filter(event_type="delivered").count() == 1


@pytest.mark.parametrize(
    "event, reason", [("bounce", "bounced"), ("spamreport", "complained"), ("unsubscribe", "unsubscribed")]
)
def test_bounces_complaints_and_unsubscribes_suppress_the_address(client, sent, event, reason):
    events(client, sg_event(sent, event, 5, "ev-x", reason="550 5.1.1 user unknown", type="bounce"))
    assert Suppression.objects.get(address="ruth@okaforsalon.example").reason == reason


def test_forged_tracking_events_are_refused(client, sent):
    response = events(client, sg_event(sent, "bounce", 5, "ev-f"), auth="sendgrid:guess")
    assert response.status_code == 403
    assert not Suppression.objects.exists() and not DeliveryEvent.objects.filter(provider_event_id="ev-f").exists()
