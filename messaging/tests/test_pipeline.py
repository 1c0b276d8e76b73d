"""The whole flow through the public API: POST a lead -> classified -> drafted -> approved -> sent."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from bizpilot.models import AuditEvent
from intelligence.models import Classification
from leads.models import Lead
from messaging.models import DeliveryEvent, Message
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db

HOT_LEAD = {
    "name": "Dana Whitfield",
    "email": "dana@whitfieldelectrical.example",
    "company": "Whitfield Electrical",
    "subject": "Website needed fast",
    "message": "Our old website is gone and we need a new one with a quote form live this month. "
    "Budget is approved, can you start next week?",
}


def test_a_lead_posted_to_the_api_is_classified_drafted_approved_and_emailed(
    api, demo_knowledge, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/leads/", json.dumps(HOT_LEAD), content_type="application/json")
    assert response.status_code == 202
    lead_id = response.json()["id"]

    detail = api.get(f"/api/leads/{lead_id}/").json()
    assert detail["state"] == "drafted"
    assert detail["intent"] == "hot"
    assert 0.5 < detail["confidence"] <= 1
    assert detail["explanation"]["neighbours"] and "hot" in detail["explanation"]["summary"]
    assert detail["snippets"]

    pending = api.get("/api/messages/", {"status": "pending_review"}).json()
    assert pending["count"] == 1
    draft = pending["results"][0]
    assert draft["lead"] == lead_id and draft["generated_by"] == "fallback"
    assert draft["body"].startswith("Hi Dana,") and "Whitfield Electrical" in draft["subject"] + draft["body"]

    edited = draft["body"].replace("Hi Dana,", "Hi Dana, great to hear from you.")
    with django_capture_on_commit_callbacks(execute=True):
        review = api.post(
            f"/api/messages/{draft['id']}/review/",
            json.dumps({"action": "edit", "body": edited}),
            content_type="application/json",
        )
    assert review.status_code == 200

    message = Message.objects.get(pk=draft["id"])
    assert message.status == "sent"
    assert message.original_body == draft["body"] and message.body == edited
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["dana@whitfieldelectrical.example"]
    text, footer = email.body.split("\n\n--\n")
    assert text == edited and email.subject == message.subject
    assert "/unsubscribe/" in footer and email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert DeliveryEvent.objects.filter(message=message, event_type="sent").count() == 1
    assert Lead.objects.get(pk=lead_id).state == "contacted"
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert {
        "lead.ingest",
        "lead.classify",
        "message.draft",
        "message.edit",
        "message.approve",
        "message.sent",
        "lead.contacted",
    } <= set(actions)


def test_processing_a_lead_twice_drafts_once(api, demo_knowledge):
    response = api.post("/api/leads/", json.dumps(HOT_LEAD), content_type="application/json")
    lead_id = response.json()["id"]
    first = lead_process(lead_id=lead_id)
    second = lead_process(lead_id=lead_id)
    assert first is not None and second is None
    assert Message.objects.filter(lead_id=lead_id).count() == 1
    assert Classification.objects.filter(lead_id=lead_id).count() == 1


def test_a_failed_step_records_its_error_and_a_retry_from_the_admin_completes_the_lead(
    api, admin_client, django_capture_on_commit_callbacks
):
    # No labelled examples are loaded yet, so classification fails.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/leads/", json.dumps(HOT_LEAD), content_type="application/json")
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.state == "received"
    assert "No labelled intent examples" in lead.last_error
    assert api.get(f"/api/leads/{lead.pk}/").json()["last_error"] == lead.last_error

    from intelligence.examples import intent_examples_add

    intent_examples_add(
        examples=[
            ("We need a website this month, budget approved", "hot"),
            ("What do you charge?", "warm"),
            ("Just browsing", "cold"),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/leads/lead/", {"action": "retry_processing", "_selected_action": [lead.pk]}
        )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.state, lead.intent, lead.last_error) == ("drafted", "hot", "")
    assert lead.processing_attempts == 2
    assert Message.objects.filter(lead=lead).count() == 1


def test_a_lead_classified_before_the_draft_failed_resumes_at_drafting(api, demo_knowledge, monkeypatch):
    lead_id = api.post("/api/leads/", json.dumps(HOT_LEAD), content_type="application/json").json()["id"]

    import messaging.pipeline as pipeline

    def broken_draft(**kwargs):
        raise ConnectionError("template store unavailable")

    monkeypatch.setattr(pipeline, "reply_draft", broken_draft)
    with pytest.raises(ConnectionError):
        lead_process(lead_id=lead_id)
    lead = Lead.objects.get(pk=lead_id)
    assert (lead.state, lead.intent) == ("classified", "hot")
    assert "template store unavailable" in lead.last_error

    monkeypatch.undo()
    assert lead_process(lead_id=lead_id) is not None
    assert Classification.objects.filter(lead_id=lead_id).count() == 1  # not classified a second time
    assert Lead.objects.get(pk=lead_id).state == "drafted"


def test_a_drafted_lead_cannot_be_retried(api, demo_knowledge, django_capture_on_commit_callbacks):
    from bizpilot.errors import InvalidTransition
    from leads.lifecycle import lead_retry

    with django_capture_on_commit_callbacks(execute=True):
        lead_id = api.post("/api/leads/", json.dumps(HOT_LEAD), content_type="application/json").json()["id"]
    assert Lead.objects.get(pk=lead_id).state == "drafted"
    with pytest.raises(InvalidTransition):
        lead_retry(lead_id=lead_id, actor="user:admin")
    assert Message.objects.filter(lead_id=lead_id).count() == 1
