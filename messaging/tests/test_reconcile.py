"""A worker died after handing a message to the provider: the message is left `sending` with no answer recorded.
It is never sent again blindly: Twilio's callback (which names our message) or a lookup in Twilio's API records it
as sent; Twilio having no record of it sends it again, once; an email, whose provider cannot be asked, is marked
for a person, who settles it in the admin. Real `twilio` and anymail clients against local stubs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from intelligence.tests.anthropic_stub import StubResponse
from leads.models import Lead
from messaging.channels import OutboundMessage, get_channel
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.reconcile import messages_reconcile_sending
from messaging.review import message_approve
from messaging.tests.twilio_support import SID, inbound_params, post_signed

pytestmark = pytest.mark.django_db
PHONE = "+447700900123"


def twilio_message(sid: str, body: str, minutes_ago: float = 0) -> dict:
    created = timezone.now() - timedelta(minutes=minutes_ago)
    return {
        "sid": sid,
        "account_sid": SID,
        "to": PHONE,
        "from": "+441134960000",
        "body": body,
        "status": "delivered",
        "date_created": created.strftime("%a, %d %b %Y %H:%M:%S +0000"),
    }


def page(*messages: dict) -> dict:
    """Twilio's answer to GET .../Messages.json (one page)."""
    return {
        "messages": list(messages),
        "first_page_uri": f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=0",
        "next_page_uri": None,
        "previous_page_uri": None,
        "page": 0,
        "page_size": 50,
        "start": 0,
        "end": len(messages) - 1,
        "uri": f"/2010-04-01/Accounts/{SID}/Messages.json?PageSize=50&Page=0",
    }


def handed_over_then_died(message: Message) -> Message:
    """What a worker does before it dies: the message is `sending`, the provider got it, nothing recorded."""
    message_approve(message_id=message.pk, actor="user:op")
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, sending_started_at=timezone.now() - timedelta(minutes=15), send_attempts=1
    )
    message.refresh_from_db()
    outbound = OutboundMessage(
        message_id=message.pk,
        channel=message.channel,
        to_address=message.to_address,
        subject=message.subject,
        body=message.body,
    )
    get_channel(message.channel).send(outbound)  # the provider has it; the worker dies before writing it down
    return message


@pytest.fixture
def stuck_sms(client, twilio, demo_knowledge) -> Message:
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(sender=PHONE))
    message = lead_process(lead_id=Lead.objects.get().pk)
    assert message is not None and message.channel == "sms"
    twilio.queue(StubResponse(201, twilio_message("SMlost1", message.body)))
    return handed_over_then_died(message)


def test_twilios_callback_names_the_message_and_records_it_as_sent(client, twilio, stuck_sms):
    callback = f"/webhooks/twilio/status/?message={stuck_sms.pk}"
    assert twilio.requests[-1].body["StatusCallback"].endswith(callback)
    status = {"MessageSid": "SMlost1", "MessageStatus": "delivered", "AccountSid": SID, "To": PHONE}
    response = post_signed(client, callback, status, url=f"https://bizpilot.example.com{callback}")
    assert response.status_code == 204
    stuck_sms.refresh_from_db()
    assert (stuck_sms.status, stuck_sms.provider_message_id) == (Message.Status.DELIVERED, "SMlost1")
    assert Lead.objects.get().contacted_at is not None
    sends = [r for r in twilio.requests if r.path.endswith("Messages.json") and "Body" in r.body]
    assert len(sends) == 1  # never sent twice


def test_the_sweeper_finds_it_at_twilio_and_records_it_as_sent(twilio, stuck_sms):
    other = twilio_message("SMother", "Something else we sent them", minutes_ago=2)
    twilio.queue(StubResponse(200, page(other, twilio_message("SMlost1", stuck_sms.body, minutes_ago=14))))
    assert messages_reconcile_sending() == {"sent": 1}
    lookup = twilio.requests[-1]
    assert lookup.body["To"] == PHONE and lookup.body["From"] == "+441134960000"
    stuck_sms.refresh_from_db()
    assert (stuck_sms.status, stuck_sms.provider_message_id) == (Message.Status.SENT, "SMlost1")
    assert messages_reconcile_sending() == {}  # settled: nothing more to do


def test_twilio_having_no_record_sends_it_again_once(twilio, stuck_sms, django_capture_on_commit_callbacks):
    twilio.queue(StubResponse(200, page()), StubResponse(201, twilio_message("SMagain", stuck_sms.body)))
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_reconcile_sending() == {"resent": 1}
    stuck_sms.refresh_from_db()
    assert (stuck_sms.status, stuck_sms.provider_message_id) == (Message.Status.SENT, "SMagain")
    sends = [r for r in twilio.requests if r.path.endswith("Messages.json") and "Body" in r.body]
    assert len(sends) == 2  # the lost one and the one sent again; the sweeper running again sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_reconcile_sending() == {}


def test_a_message_stuck_only_briefly_is_left_alone(twilio, stuck_sms):
    Message.objects.filter(pk=stuck_sms.pk).update(sending_started_at=timezone.now() - timedelta(minutes=2))
    assert messages_reconcile_sending() == {}  # it may still be on its way


@pytest.fixture
def sendgrid(settings):
    from intelligence.tests.anthropic_stub import AnthropicStub

    stub = AnthropicStub().start()
    stub.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-lost"}))
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": f"{stub.base_url}/v3/"}
    yield stub
    stub.stop()


@pytest.fixture
def stuck_email(sendgrid, demo_knowledge) -> Message:
    from leads.tests.factories import submit_lead

    message = lead_process(lead_id=submit_lead("We need a website", email="ruth@okafor.example").pk)
    assert message is not None and message.channel == "email"
    return handed_over_then_died(message)


def test_an_email_that_cannot_be_looked_up_is_marked_for_a_person_who_settles_it(
    admin_client, sendgrid, stuck_email, django_capture_on_commit_callbacks
):
    assert messages_reconcile_sending() == {"unknown": 1}
    stuck_email.refresh_from_db()
    assert stuck_email.status == Message.Status.SENDING and stuck_email.outcome_unknown_at is not None
    assert "Outcome unknown" in stuck_email.last_error and "ruth@okafor.example" in stuck_email.last_error
    assert messages_reconcile_sending() == {}  # asked once: it waits for a person
    assert len(sendgrid.requests) == 1  # never sent again on a guess

    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-again"}))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/messaging/message/", {"action": "send_again", "_selected_action": [stuck_email.pk]})
    stuck_email.refresh_from_db()
    assert stuck_email.status == Message.Status.SENT and len(sendgrid.requests) == 2


def test_an_operator_marks_it_sent_when_the_provider_shows_it_went_out(admin_client, stuck_email):
    messages_reconcile_sending()
    admin_client.post("/admin/messaging/message/", {"action": "mark_sent", "_selected_action": [stuck_email.pk]})
    stuck_email.refresh_from_db()
    assert stuck_email.status == Message.Status.SENT and stuck_email.outcome_unknown_at is not None


def test_an_email_the_provider_reported_on_is_recorded_as_sent(stuck_email):
    from messaging.events import delivery_event_record

    delivery_event_record(  # anymail's tracking found it by our id
        message=stuck_email,
        event_type="delivered",
        provider="sendgrid",
        provider_event_id="ev-1",
        occurred_at=None,
        payload={},
    )
    assert messages_reconcile_sending() == {"sent": 1}
    assert Message.objects.get(pk=stuck_email.pk).status == Message.Status.SENT


@pytest.fixture
def sms_draft(client, twilio, demo_knowledge) -> Message:
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(sender=PHONE))
    message = lead_process(lead_id=Lead.objects.get().pk)
    assert message is not None and message.channel == "sms"
    return message


def test_an_approved_reply_whose_send_job_was_lost_is_sent_by_the_sweep(twilio, sms_draft, monkeypatch):
    from bizpilot import jobs

    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: True)  # the broker lost the job (Redis restarted)
    message_approve(message_id=sms_draft.pk, actor="user:op")
    monkeypatch.undo()
    assert Message.objects.get(pk=sms_draft.pk).status == Message.Status.APPROVED
    assert messages_reconcile_sending() == {}  # approved moments ago: its job may just be waiting
    twilio.queue(StubResponse(201, twilio_message("SMfound", sms_draft.body)))
    later = timezone.now() + timedelta(minutes=15)
    assert messages_reconcile_sending(now=later) == {"requeued": 1}
    assert Message.objects.get(pk=sms_draft.pk).status == Message.Status.SENT
    assert len([r for r in twilio.requests if r.path.endswith("/Messages.json") and r.body]) == 1  # one send
    assert messages_reconcile_sending(now=later) == {}  # sent: nothing more


def test_an_approved_reply_waiting_for_a_scheduled_retry_is_left_to_it(sms_draft, monkeypatch):
    from bizpilot import jobs

    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: True)
    message_approve(message_id=sms_draft.pk, actor="user:op")
    jobs.schedule_once("messaging.tasks.send_message", sms_draft.pk, name="retry", run_at=timezone.now())
    monkeypatch.undo()
    assert messages_reconcile_sending(now=timezone.now() + timedelta(minutes=15)) == {}
