"""Prompt caching, measured with the Messages API's own usage fields: the system prompt and the business
knowledge are one prefix, the same for every lead, marked for Claude's cache. The stub bills each request as the
API documents it (intelligence.tests.anthropic_stub.PromptCache); the real `anthropic` SDK talks to it and
ModelCall records the cost at the configured Sonnet prices."""

from __future__ import annotations

import pytest

from intelligence.models import ModelCall
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, tool_use_message
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

LEADS = [
    "We need a new website for our salon next month, budget approved, can we start?",
    "How much would a booking system for a physio clinic cost?",
    "Can you redesign our bakery's site before Christmas?",
    "Do you build online shops? We sell candles.",
    "What are your opening hours for a call this week?",
    "Is SEO included in your website packages?",
]
REPLY = {
    "subject": "Your website",
    "body": "Hi [FIRST_NAME],\n\nThanks for getting in touch: happy to help with this. We can talk this week and "
    "send you a quote straight after.\n\nMaya",
    "confidence": 0.9,
    "reasoning": "A clear request for a website; the knowledge covers our packages.",
    "facts_used": [],
}


@pytest.fixture
def billing_stub(settings, monkeypatch):
    stub = AnthropicStub(cache_min_tokens=1024).start()  # Sonnet's minimum cacheable prefix
    stub.queue(StubResponse(200, tool_use_message(REPLY)))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.base_url)
    settings.ANTHROPIC_API_KEY = "sk-ant-test-key"
    settings.LLM_MODEL = "claude-sonnet-4-6"
    settings.LLM_CACHE_MIN_TOKENS = 1024
    settings.CLASSIFIER_ARBITRATION_THRESHOLD = 0.0  # drafts only: one call per lead
    yield stub
    stub.stop()


def draft_all() -> list[ModelCall]:
    for i, text in enumerate(LEADS):
        lead_process(lead_id=submit_lead(text, name=f"Sam Lee {i}").pk)
    return list(ModelCall.objects.filter(operation="draft", provider="anthropic").order_by("id"))


@pytest.mark.django_db
def test_the_knowledge_is_a_cached_prefix_shared_by_every_lead(demo_knowledge, billing_stub):
    calls = draft_all()
    assert len(calls) == len(LEADS)
    systems = {str(request.body["system"]) for request in billing_stub.requests}
    assert len(systems) == 1, "the system prompt changed between leads: nothing could be cached"
    assert "cache_control" in billing_stub.requests[0].body["system"][-1]
    assert "<knowledge>" in billing_stub.requests[0].body["system"][-1]["text"]
    assert calls[0].cache_creation_tokens > 0 and calls[0].cache_read_tokens == 0
    assert all(
        c.cache_read_tokens == calls[0].cache_creation_tokens and c.cache_creation_tokens == 0 for c in calls[1:]
    )
    # Per lead, what is billed at the full input price is only what changes: the lead, its snippets' names, examples.
    assert all(c.input_tokens < c.cache_read_tokens for c in calls[1:])
    cached_cost = sum(c.cost_usd for c in calls[1:]) / (len(calls) - 1)
    assert cached_cost < 0.01, cached_cost


@pytest.mark.django_db
def test_without_caching_every_draft_pays_the_whole_prompt(demo_knowledge, billing_stub, settings):
    settings.LLM_PROMPT_CACHING = False
    calls = draft_all()
    assert "cache_control" not in str(billing_stub.requests[0].body["system"])
    assert all(c.cache_creation_tokens == c.cache_read_tokens == 0 for c in calls)
    # Without caching the knowledge is not sent whole either: only the retrieved snippets, as before.
    assert "<knowledge>" not in billing_stub.requests[0].body["system"][0]["text"]


@pytest.mark.django_db
def test_a_prefix_below_the_models_minimum_is_not_built_for_caching(demo_knowledge, billing_stub, settings):
    settings.LLM_CACHE_MIN_TOKENS = 4096  # Haiku 4.5: the demo knowledge is too short to be cached
    calls = draft_all()
    assert "<knowledge>" not in billing_stub.requests[0].body["system"][0]["text"]  # it would only cost more
    assert all(c.cache_creation_tokens == c.cache_read_tokens == 0 for c in calls)
