from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection
from django_q.models import Schedule

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import DeliveryEvent, Message
from messaging.pipeline import lead_process
from messaging.review import message_approve
from messaging.sending import message_send
from messaging.tasks import send_message


@pytest.fixture
def approved_message(demo_knowledge, monkeypatch) -> Message:
    lead = submit_lead("How much is a website for my salon?", name="Ana Lopez", email="ana@lopez.example")
    lead_process(lead_id=lead.pk)  # (in transactional tests the on-commit job has already done it)
    message = Message.objects.get(lead=lead)
    with monkeypatch.context() as patch:  # approve without enqueueing the send, so each test sends by hand
        patch.setattr("bizpilot.jobs.enqueue", lambda *args, **kwargs: None)
        message_approve(message_id=message.pk, actor="user:reviewer")
    message.refresh_from_db()
    assert message.status == "approved" and mail.outbox == []
    return message


@pytest.mark.django_db
def test_running_send_message_twice_sends_once(approved_message):
    assert send_message(approved_message.pk) == "sent"
    assert send_message(approved_message.pk) == "sent"
    assert len(mail.outbox) == 1
    assert DeliveryEvent.objects.filter(message=approved_message, event_type="sent").count() == 1
    approved_message.refresh_from_db()
    assert approved_message.send_attempts == 1


@pytest.mark.django_db
def test_a_message_that_is_not_approved_is_never_sent(demo_knowledge):
    lead = submit_lead("Need a shop")
    message = lead_process(lead_id=lead.pk)
    assert message_send(message_id=message.pk).status == "pending_review"
    assert mail.outbox == []


@pytest.mark.django_db
def test_text_changed_after_approval_goes_back_to_review(approved_message):
    Message.objects.filter(pk=approved_message.pk).update(body="Something nobody approved")
    result = message_send(message_id=approved_message.pk)
    assert result.status == "pending_review"
    assert "approval" in result.last_error
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_unreachable_provider_is_retried_with_backoff_then_marked_failed(approved_message, settings):
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "", "SENDGRID_API_URL": "http://127.0.0.1:9/v3/"}
    # Nothing listens on port 9: the connection is refused, so the provider certainly has not got the message.
    assert message_send(message_id=approved_message.pk).status == "approved"
    approved_message.refresh_from_db()
    assert "unreachable" in approved_message.last_error and "retry 1 of 3 in 30 s" in approved_message.last_error
    assert Schedule.objects.get(name=f"send_message-{approved_message.pk}-retry-1").func == (
        "messaging.tasks.send_message"
    )
    for _ in range(3):  # the scheduled retries run, and fail the same way
        message_send(message_id=approved_message.pk)
    approved_message.refresh_from_db()
    assert approved_message.status == "failed" and approved_message.send_attempts == 4
    assert approved_message.last_error.startswith("gave up after 4 tries")
    assert message_send(message_id=approved_message.pk).status == "failed"  # never retried into a duplicate


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_message_at_once_send_it_once(approved_message):
    barrier = threading.Barrier(2)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(message_send(message_id=approved_message.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mail.outbox) == 1
    assert sorted(results) in (["sending", "sent"], ["sent", "sent"])
    assert Lead.objects.get(pk=approved_message.lead_id).state == "contacted"
