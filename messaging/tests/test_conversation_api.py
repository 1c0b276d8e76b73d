"""The conversation through the API: GET /api/leads/{id}/conversation/ (everything in and out and the notes, in
time order, paginated) and POST /api/leads/{id}/messages/ (a person's own message, through the same send checks);
and the new rows under erasure and export."""

from __future__ import annotations

import json
from datetime import time

import pytest
from django.core import mail
from django_q.models import Schedule

from intelligence.models import ReplyClassification
from leads.models import Lead
from messaging.compose import conversation_note_add
from messaging.models import AutoSendPolicy, ConversationNote, DeliveryEvent, Message, Suppression
from messaging.tests.test_conversation import email_in


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "sendgrid:inbound-secret"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def compose(api, lead_id, **body):
    return api.post(f"/api/leads/{lead_id}/messages/", json.dumps(body), content_type="application/json")


def test_the_conversation_holds_everything_in_and_out_and_the_notes_in_time_order(
    api, client, contacted_lead, django_capture_on_commit_callbacks
):
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    DeliveryEvent.objects.create(
        message=first, event_type="opened", provider="sendgrid", occurred_at=first.sent_at, is_machine=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbound = email_in(client, "Great, can we talk on Thursday at 2pm?")
    conversation_note_add(lead_id=contacted_lead.pk, body="Called her, she prefers mornings", actor="user:ops")
    response = api.get(f"/api/leads/{contacted_lead.pk}/conversation/")
    assert response.status_code == 200
    items = response.json()["results"]
    assert [i["type"] for i in items] == ["inbound", "outbound", "inbound", "outbound", "note"]
    assert items[1]["status"] == "sent"
    assert [(e["type"], e["machine"]) for e in items[1]["events"]] == [("sent", False), ("opened", True)]
    assert items[2]["id"] == inbound.pk and items[2]["reply_kind"] == "meeting"
    assert items[2]["reading"]["outcome"].startswith("answer drafted")
    assert items[3]["status"] == "pending_review" and items[3]["answers"] == [inbound.pk]
    assert items[4]["author"] == "user:ops" and items[4]["body"] == "Called her, she prefers mornings"
    page = api.get(f"/api/leads/{contacted_lead.pk}/conversation/", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5 and [i["type"] for i in page["results"]] == ["inbound", "outbound"]


def test_an_unknown_lead_has_no_conversation(api, db):
    response = api.get("/api/leads/999999/conversation/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert api.get("/api/leads/1/conversation/", {"limit": 0}).status_code in (400, 404)


def test_a_person_writes_an_email_that_goes_out_threaded_with_the_footer(
    api, contacted_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = compose(
            api, contacted_lead.pk, channel="email", subject="Re: Your website", body="Hi Sam, a quick note."
        )
    assert response.status_code == 201, response.json()
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.generated_by, message.status, message.approved_by) == ("person", "sent", "api_key:test-integration")
    assert mail.outbox[-1].body.startswith("Hi Sam, a quick note.")
    assert "To stop receiving emails from" in mail.outbox[-1].body  # the unsubscribe footer
    sent = mail.outbox[-1].message()
    assert sent["In-Reply-To"] == Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False).email_message_id


def test_a_text_needs_a_phone_number_and_consent(api, demo_knowledge):
    from leads.tests.factories import submit_lead

    lead = submit_lead("Can you quote for a website?", email="no-phone@example.com")
    response = compose(api, lead.pk, channel="sms", body="Hello!")
    assert response.status_code == 409
    assert response.json()["error"]["fields"]["channel"] == ["no phone number, or no consent to text"]
    assert not Message.objects.filter(lead=lead, generated_by="person").exists()


def test_a_suppressed_address_is_refused_up_front(api, contacted_lead):
    Suppression.objects.create(address="sam@salon.example", reason="unsubscribed", source="test")
    response = compose(api, contacted_lead.pk, channel="email", subject="Hi", body="Hello again")
    assert response.status_code == 409 and "suppression list" in response.json()["error"]["message"]


def test_whatsapp_outside_the_24_hour_window_needs_a_template(api, contacted_lead):
    response = compose(api, contacted_lead.pk, channel="whatsapp", body="Hi Sam")
    assert response.status_code == 409
    assert "whatsapp_content_sid" in response.json()["error"]["fields"]


def test_a_text_written_in_quiet_hours_waits_for_their_end(api, contacted_lead, django_capture_on_commit_callbacks):
    AutoSendPolicy.objects.create(enabled=False, quiet_hours_start=time(0, 0), quiet_hours_end=time(23, 59))
    with django_capture_on_commit_callbacks(execute=True):
        response = compose(api, contacted_lead.pk, channel="sms", body="Hi Sam, it's Maya")
    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "approved" and "quiet hours" in message.last_error
    assert Schedule.objects.filter(name=f"send_message-{message.pk}").exists()


def test_bad_input_is_a_clear_error_and_nothing_is_stored(api, contacted_lead):
    response = compose(api, contacted_lead.pk, channel="fax", body="", colour="red")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"channel", "body", "colour"}
    assert not Message.objects.filter(generated_by="person").exists()


def test_erasure_and_export_cover_notes_and_reply_readings(
    api, client, contacted_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email_in(client, "Too expensive for us, sorry. Call me on 07700 900999 if you can do better.")
    conversation_note_add(lead_id=contacted_lead.pk, body="Sam's partner decides", actor="user:ops")
    export = api.get(f"/api/leads/{contacted_lead.pk}/export/").json()
    assert export["conversation_notes"][0]["body"] == "Sam's partner decides"
    assert export["reply_classifications"][0]["kind"] == "objection_price"
    assert api.delete(f"/api/leads/{contacted_lead.pk}/").status_code == 204
    assert not ConversationNote.objects.exists()
    reading = ReplyClassification.objects.get()
    assert (reading.kind, reading.reasons, reading.change) == ("objection_price", [], "")
    assert not Lead.objects.filter(inbound_messages__body__contains="07700").exists()
    assert api.get(f"/api/leads/{contacted_lead.pk}/conversation/").status_code == 404
