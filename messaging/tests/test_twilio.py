"""Twilio: inbound SMS/WhatsApp and status webhooks signed with twilio's own RequestValidator, STOP/START, and
outbound texts sent by the real `twilio` client to a local stub of its REST API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from twilio.request_validator import RequestValidator

from intelligence.tests.anthropic_stub import StubResponse
from leads.models import InboundMessage, Lead
from messaging.models import DeliveryEvent, Message, Suppression
from messaging.pipeline import lead_process
from messaging.review import message_approve
from messaging.sending import message_send
from messaging.tests.twilio_support import SID, TOKEN, inbound_params, post_signed

pytestmark = pytest.mark.django_db


def test_an_inbound_sms_becomes_a_lead_and_twilio_gets_empty_twiml(client, twilio):
    response = post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    lead = Lead.objects.get()
    assert (lead.phone, lead.preferred_channel, lead.source) == ("+447700900123", "sms", "sms")
    inbound = lead.inbound_messages.get()
    assert (inbound.channel, inbound.provider_message_id, inbound.raw_payload["AccountSid"]) == ("sms", "SM0001", SID)


def test_a_whatsapp_message_keeps_the_profile_name_and_channel(client, twilio):
    params = inbound_params(sender="whatsapp:+447700900123", ProfileName="Tom Baker", sid="SM0002")
    post_signed(client, "/webhooks/twilio/messages/", params)
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.preferred_channel) == ("Tom Baker", "+447700900123", "whatsapp")


@pytest.mark.parametrize("how", ["missing", "wrong token", "other url", "tampered body"])
def test_forged_twilio_requests_are_refused_and_nothing_is_stored(client, twilio, how):
    params = inbound_params()
    if how == "missing":
        response = client.post("/webhooks/twilio/messages/", params)
    elif how == "wrong token":
        response = post_signed(client, "/webhooks/twilio/messages/", params, token="guessed")
    elif how == "other url":
        response = post_signed(client, "/webhooks/twilio/messages/", params, url="https://evil.example/hook")
    else:
        signature = RequestValidator(TOKEN).compute_signature(
            "https://bizpilot.example.com/webhooks/twilio/messages/", params
        )
        response = client.post(
            "/webhooks/twilio/messages/", {**params, "Body": "changed"}, HTTP_X_TWILIO_SIGNATURE=signature
        )
    assert response.status_code == 403
    assert Lead.objects.count() == 0 and InboundMessage.objects.count() == 0


def test_the_url_django_sees_also_validates_when_no_proxy_rewrites_it(client, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"  # not what Twilio called: the request's own URL is tried
    response = post_signed(
        client, "/webhooks/twilio/messages/", inbound_params(), url="http://testserver/webhooks/twilio/messages/"
    )
    assert response.status_code == 200 and Lead.objects.count() == 1


def test_twilio_retrying_a_message_stores_it_once(client, twilio):
    for _ in range(2):
        assert post_signed(client, "/webhooks/twilio/messages/", inbound_params()).status_code == 200
    assert InboundMessage.objects.count() == 1


def sent_sms(twilio_stub, lead_phone="+447700900123") -> Message:
    """A drafted, approved SMS to a lead who texted in, sent through the stubbed Twilio API."""
    twilio_stub.queue(
        StubResponse(
            201,
            {
                "sid": "SMout1",
                "status": "queued",
                "account_sid": SID,
                "to": lead_phone,
                "from": "+441134960000",
                "body": "...",
            },
        )
    )
    lead = Lead.objects.get(phone=lead_phone)
    message = lead_process(lead_id=lead.pk)
    assert message is not None
    message_approve(message_id=message.pk, actor="user:op")
    return message_send(message_id=message.pk)


def test_an_approved_sms_is_sent_by_the_twilio_client_with_a_status_callback(client, twilio, demo_knowledge):
    post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    message = sent_sms(twilio)
    assert (message.status, message.provider_message_id) == ("sent", "SMout1")
    request = twilio.requests[-1]
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert (request.body["To"], request.body["From"]) == ("+447700900123", "+441134960000")
    assert request.body["Body"] == message.body
    callback = f"https://bizpilot.example.com/webhooks/twilio/status/?message={message.pk}"
    assert request.body["StatusCallback"] == callback  # our id rides along (messaging.reconcile)
    assert request.headers["authorization"].startswith("Basic ")

    status = {"MessageSid": "SMout1", "MessageStatus": "delivered", "AccountSid": SID, "To": "+447700900123"}
    for _ in range(2):  # Twilio may deliver a callback twice
        assert post_signed(client, "/webhooks/twilio/status/", status).status_code == 204
    assert DeliveryEvent.objects.filter(message=message, event_type="delivered").count() == 1
    assert Message.objects.get(pk=message.pk).status == "delivered"
    assert client.post("/webhooks/twilio/status/", status).status_code == 403


def test_stop_unsubscribes_and_a_later_reply_is_suppressed_start_lifts_it(client, twilio, demo_knowledge):
    post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    lead = Lead.objects.get()
    message = lead_process(lead_id=lead.pk)
    message_approve(message_id=message.pk, actor="user:op")
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(body="Stop", sid="SM0003"))
    assert Suppression.objects.get(address="+447700900123").reason == "stop"
    assert message_send(message_id=message.pk).status == "suppressed"
    assert twilio.requests == []  # nothing reached Twilio
    assert InboundMessage.objects.count() == 1  # STOP is a keyword, not a new inquiry

    post_signed(client, "/webhooks/twilio/messages/", inbound_params(body="START", sid="SM0004"))
    assert not Suppression.objects.exists()
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(body="yes", sid="SM0005"))
    assert InboundMessage.objects.count() == 2  # "yes" from someone not opted out is just a message


def test_a_permanent_twilio_error_fails_the_message_with_the_reason_and_suppresses(client, twilio, demo_knowledge):
    post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    error = {
        "code": 21610,
        "message": "Attempt to send to unsubscribed recipient",
        "more_info": "https://www.twilio.com/docs/errors/21610",
        "status": 400,
    }
    twilio.queue(StubResponse(400, error))
    message = lead_process(lead_id=Lead.objects.get().pk)
    message_approve(message_id=message.pk, actor="user:op")
    result = message_send(message_id=message.pk)
    assert result.status == "failed" and "21610" in result.last_error and "unsubscribed recipient" in result.last_error
    assert Suppression.objects.get(address="+447700900123").reason == "stop"


def test_a_twilio_server_error_is_retried_later(client, twilio, demo_knowledge):
    post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    twilio.queue(StubResponse(503, {"code": 20503, "message": "Service unavailable", "status": 503}))
    message = lead_process(lead_id=Lead.objects.get().pk)
    message_approve(message_id=message.pk, actor="user:op")
    assert message_send(message_id=message.pk).status == "approved"
    assert Schedule.objects.filter(name=f"send_message-{message.pk}-retry-1").exists()


def test_whatsapp_replies_need_the_24_hour_window(client, twilio, demo_knowledge):
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(sender="whatsapp:+447700900123"))
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(hours=25))
    message = lead_process(lead_id=Lead.objects.get().pk)
    message_approve(message_id=message.pk, actor="user:op")
    held = message_send(message_id=message.pk)
    assert held.status == "pending_review" and "24 hours" in held.last_error and twilio.requests == []

    InboundMessage.objects.update(received_at=timezone.now())
    twilio.queue(StubResponse(201, {"sid": "SMwa1", "status": "queued", "account_sid": SID}))
    message_approve(message_id=message.pk, actor="user:op")
    assert message_send(message_id=message.pk).status == "sent"
    sent = twilio.requests[-1].body
    assert (sent["To"], sent["From"]) == ("whatsapp:+447700900123", "whatsapp:+441134960001")
