from __future__ import annotations

import json

import pytest
from django.core import mail

from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(demo_knowledge) -> Message:
    lead = submit_lead(
        "Could you tell me what your website packages cost?",
        name="Lee Chan",
        email="lee@chantutors.example",
        company="Chan Tutors",
    )
    lead_process(lead_id=lead.pk)
    return Message.objects.get(lead=lead)


def review(api, message_id, payload):
    return api.post(f"/api/messages/{message_id}/review/", json.dumps(payload), content_type="application/json")


def test_approve_sends_the_draft_as_it_is(api, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(api, draft.pk, {"action": "approve"})
    assert response.status_code == 200
    assert response.json()["approved_by"] == "api_key:test-integration"
    assert response.json()["edited"] is False
    assert Message.objects.get(pk=draft.pk).status == "sent"
    assert mail.outbox[0].body.split("\n\n--\n")[0] == draft.body


def test_reject_keeps_the_reason_and_sends_nothing(api, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = review(api, draft.pk, {"action": "reject", "reason": "Lead is a competitor"})
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["rejected_reason"] == "Lead is a competitor"
    assert mail.outbox == []


def test_a_reviewed_message_cannot_be_reviewed_again(api, draft):
    review(api, draft.pk, {"action": "reject"})
    response = review(api, draft.pk, {"action": "approve"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "publish"}, "action"),
        ({}, "action"),
        ({"action": "edit"}, "body"),
        ({"action": "edit", "body": "   "}, "body"),
        ({"action": "edit", "subject": ""}, "subject"),
        ({"action": "approve", "body": "sneaky new text"}, "body"),
        ({"action": "edit", "body": 12}, "body"),
    ],
)
def test_bad_review_input_is_a_400_naming_the_field(api, draft, payload, field):
    response = review(api, draft.pk, payload)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert Message.objects.get(pk=draft.pk).status == "pending_review"


def test_reviewing_a_missing_message_is_404(api, db):
    response = review(api, 999999, {"action": "approve"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_messages_can_be_listed_by_status(api, draft):
    assert api.get("/api/messages/", {"status": "pending_review"}).json()["count"] == 1
    assert api.get("/api/messages/", {"status": "sent"}).json()["count"] == 0
    assert api.get("/api/messages/").json()["count"] == 1
    response = api.get("/api/messages/", {"status": "bogus"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_message_detail_shows_original_and_final_text(api, draft):
    response = api.get(f"/api/messages/{draft.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["body"] == body["original_body"] == draft.body
    assert api.get("/api/messages/424242/").status_code == 404


def test_unknown_lead_is_404(api, db):
    response = api.get("/api/leads/424242/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
