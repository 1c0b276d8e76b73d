"""LLM_PROVIDER=ollama: the same drafting over Ollama's chat API, tested against a local stub of that API."""

from __future__ import annotations

import pytest

from intelligence.drafting import draft_reply
from intelligence.models import ModelCall
from intelligence.tests.anthropic_stub import StubResponse, ollama_chat_response
from intelligence.tests.test_drafting import SNIPPETS, lead
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db

REPLY = {
    "subject": "Your clinic website",
    "body": "Hi [FIRST_NAME],\n\nA marketing website takes 4 to 6 weeks.\n\nMaya",
    "confidence": 0.77,
    "reasoning": "Answered the timeline question",
    "facts_used": ["4 to 6 weeks"],
}


def test_ollama_drafts_with_a_json_schema_and_the_call_is_logged_at_no_cost(ollama_stub):
    ollama_stub.queue(StubResponse(200, ollama_chat_response(REPLY)))
    draft = draft_reply(lead=lead(), intent="warm", snippets=SNIPPETS)
    assert (draft.generated_by, draft.subject, draft.confidence) == ("llm", "Your clinic website", 0.77)
    assert draft.body.startswith("Hi Priya,") and draft.template == "ollama:warm / Email v1"

    sent = ollama_stub.requests[0]
    assert sent.path == "/api/chat"
    assert (sent.body["model"], sent.body["stream"]) == ("llama3.1:8b", False)
    assert sent.body["format"]["required"] == ["subject", "body", "confidence", "reasoning", "facts_used"]
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]
    assert "<lead_message>" in sent.body["messages"][1]["content"]
    assert "Priya" not in sent.raw.decode()  # redaction applies to local models too

    call = ModelCall.objects.get(pk=draft.model_call_id)
    assert (call.provider, call.model, call.status, call.input_tokens, call.output_tokens) == (
        "ollama",
        "llama3.1:8b",
        "ok",
        640,
        180,
    )
    assert call.cost_usd == 0


def test_a_server_error_is_retried_then_the_draft_succeeds(ollama_stub):
    ollama_stub.queue(StubResponse(503, {"error": "server busy"}), StubResponse(200, ollama_chat_response(REPLY)))
    draft = draft_reply(lead=lead(), intent="hot", snippets=SNIPPETS)
    assert draft.generated_by == "llm" and len(ollama_stub.requests) == 2


def test_server_errors_until_retries_run_out_fall_back_with_the_reason(ollama_stub):
    ollama_stub.queue(StubResponse(500, {"error": "out of memory"}))
    draft = draft_reply(lead=lead(), intent="hot", snippets=SNIPPETS)
    assert draft.generated_by == "fallback"
    assert draft.reason == "LLM failed: Ollama HTTP 500: out of memory"
    assert len(ollama_stub.requests) == 3
    assert ModelCall.objects.get(pk=draft.model_call_id).status == "error"


def test_an_unknown_model_is_not_retried(ollama_stub):
    ollama_stub.queue(StubResponse(404, {"error": "model 'llama3.1:8b' not found, try pulling it first"}))
    draft = draft_reply(lead=lead(), intent="cold", snippets=SNIPPETS)
    assert "not found, try pulling it first" in draft.reason and len(ollama_stub.requests) == 1


def test_a_timeout_falls_back(ollama_stub, settings):
    settings.LLM_TIMEOUT_SECONDS = 0.3
    settings.LLM_MAX_RETRIES = 0
    ollama_stub.queue(StubResponse(200, ollama_chat_response(REPLY), delay=1.5))
    draft = draft_reply(lead=lead(), intent="warm", snippets=SNIPPETS)
    assert draft.generated_by == "fallback" and "timed out" in draft.reason


@pytest.mark.parametrize(
    "content, reason",
    [
        ("Sure! Here is a reply: Hi Priya", "no JSON object"),
        ('["not", "an", "object"]', "not an object"),
        ('{"subject": "x", "body": "", "confidence": 0.5}', "no body text"),
    ],
)
def test_output_that_is_not_the_schema_falls_back(ollama_stub, content, reason):
    ollama_stub.queue(StubResponse(200, ollama_chat_response(content)))
    draft = draft_reply(lead=lead(), intent="warm", snippets=SNIPPETS)
    assert draft.generated_by == "fallback" and reason in draft.reason
    assert ModelCall.objects.get(pk=draft.model_call_id).status == "error"


def test_the_pipeline_drafts_with_ollama_and_health_shows_the_provider(ollama_stub, demo_knowledge, client):
    ollama_stub.queue(StubResponse(200, ollama_chat_response(REPLY)))
    message = lead_process(lead_id=submit_lead("How long does a website take?", name="Priya Shah").pk)
    assert message.generated_by == "llm" and message.model_call.provider == "ollama"
    llm = client.get("/healthz").json()["details"]["llm"]
    assert (llm["provider"], llm["model"], llm["enabled"]) == ("ollama", "llama3.1:8b", True)
