"""Approved replies, above all edited ones, become examples in the next similar draft's prompt."""

from __future__ import annotations

import json

import pytest

from intelligence.models import ModelCall, VoiceExample
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db

EDIT = "Hiya Jo! Lovely to hear from a fellow baker. Online ordering is our favourite kind of project."


@pytest.fixture
def claude(anthropic_stub, demo_knowledge):
    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "Your website",
                    "body": "Hi [FIRST_NAME], thanks!\\n\\nMaya",
                    "confidence": 0.8,
                    "reasoning": "r",
                    "facts_used": [],
                }
            ),
        )
    )
    return anthropic_stub


def last_prompt(stub) -> str:
    return stub.requests[-1].body["messages"][0]["content"]


def test_an_edit_changes_what_the_next_similar_drafts_prompt_contains(claude, api, django_capture_on_commit_callbacks):
    before = lead_process(
        lead_id=submit_lead(
            "Our cake shop needs a website with online orders, can you start this week?", name="Ann Lee"
        ).pk
    )
    assert EDIT not in last_prompt(claude) and before.model_call.voice_examples == []

    first = lead_process(
        lead_id=submit_lead(
            "My bakery needs a website with online ordering, can you start this week?", name="Jo Park"
        ).pk
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/messages/{first.pk}/review/",
            json.dumps({"action": "edit", "body": EDIT}),
            content_type="application/json",
        )
    assert response.status_code == 200
    example = VoiceExample.objects.get(message_id=first.pk)
    assert example.edited and "Jo" not in example.reply_text and "[FIRST_NAME]" in example.reply_text

    after = lead_process(
        lead_id=submit_lead(
            "Our cake shop needs a website with online ordering, can you start this week?", name="Bo Li"
        ).pk
    )
    prompt = last_prompt(claude)
    assert "Lovely to hear from a fellow baker" in prompt
    assert "Jo" not in prompt.replace("[FIRST_NAME]", "")  # the earlier lead's name never reaches this prompt
    assert ModelCall.objects.get(pk=after.model_call_id).voice_examples == [example.pk]


def test_auto_sent_replies_do_not_become_examples(claude, settings, django_capture_on_commit_callbacks):
    settings.AUTO_SEND_ENABLED = True
    settings.AUTO_SEND_THRESHOLD = 0.0
    lead = submit_lead("We need a website this week, budget approved.", name="Kim Ng")
    with django_capture_on_commit_callbacks(execute=True):
        message = lead_process(lead_id=lead.pk)
    message.refresh_from_db()
    assert message.approved_by == "system:auto-send"
    assert not VoiceExample.objects.exists()
