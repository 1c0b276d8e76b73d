"""Outages of what lies outside the machine, through local stubs that fail or hang: with the LLM down, leads still
get fallback drafts; with the email provider or Twilio answering errors, sends are retried and then fail visibly;
with either hanging, the message is never sent twice: it waits `sending` and is looked up (Twilio) or marked for
a person (email)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, error_body
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.reconcile import messages_reconcile_sending
from messaging.review import message_approve
from messaging.sending import SEND_MAX_ATTEMPTS, message_send
from messaging.tests.test_reconcile import page, twilio_message
from messaging.tests.twilio_support import inbound_params, post_signed

pytestmark = pytest.mark.django_db
HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


@pytest.mark.parametrize("outage", ["errors", "hangs"])
def test_with_the_llm_down_leads_still_get_fallback_drafts(anthropic_stub, demo_knowledge, outage, api):
    if outage == "errors":
        anthropic_stub.queue(StubResponse(529, error_body("overloaded_error", "Overloaded")))
    else:
        anthropic_stub.queue(StubResponse(200, {}, delay=3))  # past LLM_TIMEOUT_SECONDS (2 in tests)
    message = lead_process(lead_id=submit_lead(HOT, email="a@salon.example", name="Sam Lee").pk)
    assert message is not None and message.generated_by == "fallback" and message.body
    assert "LLM" in message.generation_reason or "fallback" in message.generation_reason.lower()
    assert Lead.objects.get(pk=message.lead_id).state == Lead.State.DRAFTED
    usage = api.get("/api/dashboard/metrics/").json()["llm_usage"]
    assert any(row["errors"] >= 1 for row in usage)  # the failed calls are on record


@pytest.fixture
def email_provider(settings):
    stub = AnthropicStub().start()
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{stub.base_url}/v3/",
        "REQUESTS_TIMEOUT": 1,
    }
    yield stub
    stub.stop()


@pytest.fixture
def approved_email(email_provider, demo_knowledge) -> Message:
    message = lead_process(lead_id=submit_lead(HOT, email="b@salon.example", name="Sam Lee").pk)
    assert message is not None
    message_approve(message_id=message.pk, actor="user:op")
    return message


def test_an_email_provider_answering_errors_is_retried_then_fails_visibly(email_provider, approved_email, api):
    email_provider.queue(StubResponse(503, {"errors": [{"message": "Service Unavailable"}]}))
    for _ in range(SEND_MAX_ATTEMPTS):
        message_send(message_id=approved_email.pk)  # the first try, then each scheduled retry
    shown = api.get(f"/api/messages/{approved_email.pk}/").json()
    assert (
        shown["status"] == "failed" and "gave up after 4 tries" in shown["last_error"] and "503" in shown["last_error"]
    )
    assert len(email_provider.requests) == SEND_MAX_ATTEMPTS


def test_a_hanging_email_provider_leaves_the_message_for_a_person_never_resent(email_provider, approved_email):
    email_provider.queue(StubResponse(202, None, delay=3))  # answers after the 1 s timeout
    message = message_send(message_id=approved_email.pk)
    assert message.status == Message.Status.SENDING and "did not answer in time" in message.last_error
    assert messages_reconcile_sending(now=timezone.now() + timedelta(hours=1)) == {"unknown": 1}
    assert message_send(message_id=approved_email.pk).status == Message.Status.SENDING  # a retried job: nothing
    assert len(email_provider.requests) == 1


@pytest.fixture
def approved_sms(client, twilio, demo_knowledge, settings) -> Message:
    settings.TWILIO_TIMEOUT_SECONDS = 1
    post_signed(client, "/webhooks/twilio/messages/", inbound_params())
    message = lead_process(lead_id=Lead.objects.get().pk)
    assert message is not None and message.channel == "sms"
    message_approve(message_id=message.pk, actor="user:op")
    return message


def test_twilio_answering_errors_is_retried_then_fails_visibly(twilio, approved_sms):
    twilio.queue(StubResponse(500, {"code": 20500, "message": "Internal Server Error", "status": 500}))
    for _ in range(SEND_MAX_ATTEMPTS):
        message_send(message_id=approved_sms.pk)
    approved_sms.refresh_from_db()
    assert approved_sms.status == Message.Status.FAILED and "Twilio 500" in approved_sms.last_error


def test_a_hanging_twilio_is_looked_up_afterwards_and_the_text_is_not_sent_twice(twilio, approved_sms):
    twilio.queue(StubResponse(201, twilio_message("SMslow", approved_sms.body), delay=2))  # Twilio got it, slowly
    message = message_send(message_id=approved_sms.pk)
    assert message.status == Message.Status.SENDING and "did not answer in time" in message.last_error
    twilio.queue(StubResponse(200, page(twilio_message("SMslow", approved_sms.body))))
    assert messages_reconcile_sending(now=timezone.now() + timedelta(hours=1)) == {"sent": 1}
    approved_sms.refresh_from_db()
    assert (approved_sms.status, approved_sms.provider_message_id) == (Message.Status.SENT, "SMslow")
    assert len([r for r in twilio.requests if "Body" in r.body]) == 1
