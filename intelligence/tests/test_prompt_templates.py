"""Prompt templates: seeded defaults, versioned edits in the admin, and messages that remember their version."""

from __future__ import annotations

import pytest

from bizpilot.errors import ValidationFailed
from bizpilot.models import AuditEvent
from intelligence.models import PromptTemplate
from intelligence.prompt_templates import prompt_template_save
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db

HOT_LEAD = "We need a new website for our salon next month, can you quote? Ready to start."


def live(intent: str, kind: str) -> PromptTemplate:
    template = PromptTemplate.objects.filter(intent=intent, channel_kind=kind).order_by("-version").first()
    assert template is not None
    return template


def form(template: PromptTemplate, **changes) -> dict:
    data = {
        "instructions": template.instructions,
        "max_chars": template.max_chars,
        "fallback_subject": template.fallback_subject,
        "fallback_body": template.fallback_body,
        "change_note": "",
    }
    return {**data, **changes}


def test_every_intent_and_channel_kind_starts_with_a_default_template():
    seeded = set(PromptTemplate.objects.values_list("intent", "channel_kind", "version"))
    assert seeded == {(i, k, 1) for i in ["hot", "warm", "cold"] for k in ["email", "text"]}
    assert live("hot", "text").max_chars == 480


def test_editing_in_the_admin_creates_a_new_version_and_keeps_the_old_one(admin_client):
    v1 = live("hot", "email")
    response = admin_client.post(
        f"/admin/intelligence/prompttemplate/{v1.pk}/change/",
        form(v1, fallback_body="Hi {{ first_name }}, shall we book a call? - {{ sender_name }}", change_note="Shorter"),
    )
    assert response.status_code == 302
    v2 = live("hot", "email")
    assert (v2.version, v2.change_note, v2.created_by) == (2, "Shorter", "user:admin")
    v1.refresh_from_db()
    assert "15-minute call" in v1.fallback_body  # the old version is unchanged
    event = AuditEvent.objects.get(action="prompt_template.new_version")
    assert (event.object_id, event.before, event.after["version"]) == (str(v2.pk), {"version": 1}, 2)
    listing = admin_client.get("/admin/intelligence/prompttemplate/?intent__exact=hot&channel_kind__exact=email")
    assert "hot / Email v2" in listing.content.decode() and "hot / Email v1" in listing.content.decode()


def test_a_broken_template_is_refused_with_the_field_named_and_nothing_saved(admin_client):
    v1 = live("warm", "email")
    response = admin_client.post(
        f"/admin/intelligence/prompttemplate/{v1.pk}/change/", form(v1, fallback_body="Hi {% if first_name %}")
    )
    assert response.status_code == 200
    assert "fallback_body" in response.context["adminform"].form.errors
    assert PromptTemplate.objects.filter(intent="warm", channel_kind="email").count() == 1


def test_the_service_rejects_a_fallback_longer_than_its_limit():
    with pytest.raises(ValidationFailed) as error:
        prompt_template_save(
            intent="cold",
            channel_kind="text",
            instructions="Be brief.",
            max_chars=40,
            fallback_subject="",
            fallback_body="Hi {{ first_name }}, " + "thanks! " * 20,
            actor="user:test",
        )
    assert "fallback_body" in error.value.fields
    assert live("cold", "text").version == 1


def test_the_next_fallback_draft_uses_the_new_version_and_the_message_records_it(demo_knowledge):
    prompt_template_save(
        intent="hot",
        channel_kind="email",
        instructions="Propose a call.",
        max_chars=2000,
        fallback_subject="Quick call, {{ first_name }}?",
        fallback_body="Hi {{ first_name }},\n\nCan we talk this week?\n\n{{ sender_name }}",
        actor="user:test",
    )
    message = lead_process(lead_id=submit_lead(HOT_LEAD, name="Ruth Okafor").pk)
    assert message.classification.intent == "hot"
    assert (message.prompt_template.version, message.template_name) == (2, "fallback:hot / Email v2")
    assert (message.subject, message.body) == (
        "Quick call, Ruth?",
        "Hi Ruth,\n\nCan we talk this week?\n\nMaya from Northwind",
    )


def test_the_llm_prompt_carries_the_live_instructions(anthropic_stub, demo_knowledge):
    reply = {
        "subject": "Hi",
        "body": "Hi [FIRST_NAME], yes.\n\nMaya",
        "confidence": 0.8,
        "reasoning": "r",
        "facts_used": [],
    }
    anthropic_stub.queue(StubResponse(200, tool_use_message(reply)))
    prompt_template_save(
        intent="hot",
        channel_kind="email",
        instructions="Mention our spring opening hours.",
        max_chars=900,
        fallback_subject="Hi",
        fallback_body="Hi {{ first_name }}",
        actor="user:test",
    )
    message = lead_process(lead_id=submit_lead(HOT_LEAD, name="Ruth Okafor").pk)
    prompt = anthropic_stub.requests[-1].body["messages"][0]["content"]
    assert "Mention our spring opening hours." in prompt and "Stay under 900 characters." in prompt
    assert (message.generated_by, message.prompt_template.version) == ("llm", 2)
