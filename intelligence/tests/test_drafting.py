from __future__ import annotations

import pytest

from intelligence.drafting import draft_reply
from intelligence.models import ModelCall, PromptTemplate
from intelligence.prompts import LeadFacts, top_fact
from intelligence.tests.anthropic_stub import StubResponse, error_body, tool_use_message

pytestmark = pytest.mark.django_db

SNIPPETS = [
    {
        "document": "Northwind",
        "heading": "Timelines",
        "text": "A marketing website takes 4 to 6 weeks from kickoff to launch. An online shop takes 6 to 10 weeks.",
        "similarity": 0.61,
    }
]


def lead(channel="email", **overrides):
    values = dict(
        lead_id=None,
        name="Priya Shah",
        company="Shah Physio",
        channel=channel,
        subject="New site",
        message="How long does a website take?",
    )
    values.update(overrides)
    return LeadFacts(**values)


@pytest.mark.parametrize("intent", ["hot", "warm", "cold"])
def test_fallback_email_uses_name_company_and_the_top_fact(intent):
    draft = draft_reply(lead=lead(), intent=intent, snippets=SNIPPETS)
    assert draft.generated_by == "fallback"
    assert "ANTHROPIC_API_KEY" in draft.reason
    live = PromptTemplate.objects.get(intent=intent, channel_kind="email", version=1)  # seeded by a migration
    assert (draft.template, draft.prompt_template_id) == (f"fallback:{intent} / Email v1", live.pk)
    assert draft.body.startswith("Hi Priya,")
    assert "A marketing website takes 4 to 6 weeks" in draft.body
    assert draft.subject and "{" not in draft.subject + draft.body


def test_fallback_templates_differ_by_intent():
    bodies = {i: draft_reply(lead=lead(), intent=i, snippets=SNIPPETS).body for i in ["hot", "warm", "cold"]}
    assert len(set(bodies.values())) == 3
    assert "call this week" in bodies["hot"]


def test_fallback_sms_is_short_and_has_no_subject():
    draft = draft_reply(lead=lead(channel="sms"), intent="hot", snippets=SNIPPETS)
    assert draft.subject == ""
    assert len(draft.body) <= 480
    assert draft.body.startswith("Hi Priya,")


def test_fallback_without_name_or_knowledge_still_reads_well():
    draft = draft_reply(lead=lead(name="", company=""), intent="warm", snippets=[])
    assert draft.body.startswith("Hi,")
    assert "  " not in draft.body


def test_top_fact_cuts_at_a_sentence_and_skips_a_bare_yes():
    fact = top_fact([{"text": "Yes. We set up booking with Calendly. " + "More words here. " * 30}])
    assert fact.startswith("We set up booking")
    assert fact.endswith(".") and len(fact) <= 240


def test_claude_drafts_through_the_sdk_with_a_forced_tool_and_the_call_is_logged(anthropic_stub):
    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "Your new clinic website",
                    "body": "Hi Priya,\n\nA site takes 4 to 6 weeks.\n\nMaya",
                    "confidence": 0.82,
                    "reasoning": "Answered the timeline question",
                    "facts_used": ["4 to 6 weeks"],
                },
                input_tokens=900,
                output_tokens=120,
                cache_read=300,
            ),
        )
    )
    draft = draft_reply(lead=lead(), intent="warm", snippets=SNIPPETS)
    assert draft.generated_by == "llm"
    assert draft.subject == "Your new clinic website"
    assert draft.confidence == 0.82

    sent = anthropic_stub.requests[0]
    assert sent.path == "/v1/messages"
    # This SDK release authenticates with a bearer header (older ones used x-api-key).
    credential = sent.headers.get("x-api-key") or sent.headers.get("authorization", "").removeprefix("Bearer ")
    assert credential == "sk-ant-test-key"
    assert sent.headers["anthropic-version"]
    assert sent.body["tool_choice"] == {"type": "tool", "name": "submit_reply"}
    assert sent.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "<lead_message>" in sent.body["messages"][0]["content"]
    assert "4 to 6 weeks" in sent.body["messages"][0]["content"]

    call = ModelCall.objects.get(pk=draft.model_call_id)
    assert (call.status, call.provider, call.input_tokens, call.output_tokens, call.cache_read_tokens) == (
        "ok",
        "anthropic",
        900,
        120,
        300,
    )
    # claude-sonnet-5-5: $3/MTok in, $15/MTok out, $0.30/MTok cache read
    assert float(call.cost_usd) == pytest.approx((900 * 3 + 120 * 15 + 300 * 0.3) / 1_000_000)


def test_a_rate_limit_is_retried_by_the_sdk(anthropic_stub):
    reply = {"subject": "Hi", "body": "Hello Priya", "confidence": 0.7, "reasoning": "r", "facts_used": []}
    anthropic_stub.queue(
        StubResponse(429, error_body("rate_limit_error", "slow down"), headers={"retry-after-ms": "10"}),
        StubResponse(200, tool_use_message(reply)),
    )
    draft = draft_reply(lead=lead(), intent="hot", snippets=SNIPPETS)
    assert draft.generated_by == "llm"
    assert len(anthropic_stub.requests) == 2


def test_server_errors_until_retries_run_out_fall_back_to_the_template(anthropic_stub):
    anthropic_stub.queue(StubResponse(500, error_body("api_error", "boom"), headers={"retry-after-ms": "10"}))
    draft = draft_reply(lead=lead(), intent="hot", snippets=SNIPPETS)
    assert draft.generated_by == "fallback"
    assert draft.reason.startswith("LLM failed: InternalServerError")
    assert len(anthropic_stub.requests) == 3  # the first try and two retries
    call = ModelCall.objects.get(pk=draft.model_call_id)
    assert call.status == "error" and "boom" in call.error


def test_a_timeout_falls_back_to_the_template(anthropic_stub, settings):
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_TIMEOUT_SECONDS = 0.3
    anthropic_stub.queue(StubResponse(200, tool_use_message({"body": "late"}), delay=1.5))
    draft = draft_reply(lead=lead(), intent="warm", snippets=SNIPPETS)
    assert draft.generated_by == "fallback"
    assert "Timeout" in draft.reason


def test_malformed_tool_input_falls_back_to_the_template(anthropic_stub):
    anthropic_stub.queue(StubResponse(200, tool_use_message({"subject": "x", "body": "", "confidence": 3})))
    draft = draft_reply(lead=lead(), intent="cold", snippets=SNIPPETS)
    assert draft.generated_by == "fallback"
    assert "no body text" in draft.reason
    assert ModelCall.objects.get(pk=draft.model_call_id).status == "error"


def test_claude_arbitrates_an_unsure_classification_and_both_opinions_are_kept(
    anthropic_stub, demo_knowledge, settings
):
    from intelligence.classification import classification_arbitrate, classify_text

    settings.CLASSIFIER_ARBITRATION_THRESHOLD = 1.01  # treat every classification as unsure
    anthropic_stub.queue(
        StubResponse(
            200,
            {
                **tool_use_message({}),
                "content": [
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "submit_intent",
                        "input": {"intent": "warm", "confidence": 0.8, "reasoning": "asks about price"},
                    }
                ],
            },
        )
    )
    text = "What would a site for my bakery cost, and could you start soon?"
    before = classify_text(text=text)
    result = classification_arbitrate(result=classify_text(text=text), text=text, lead_id=None)
    assert result.intent == "warm"
    assert result.method.endswith("+llm")
    arbitration = result.explanation()["arbitration"]
    assert arbitration["classifier"]["intent"] == before.intent
    assert arbitration["llm"]["intent"] == "warm" and arbitration["decided_by"] == "llm"
    assert ModelCall.objects.get(pk=arbitration["llm"]["model_call_id"]).operation == "classify"
    assert anthropic_stub.requests[0].body["tool_choice"]["name"] == "submit_intent"


def test_a_failed_arbitration_keeps_the_classifier_decision(anthropic_stub, demo_knowledge, settings):
    from intelligence.classification import classification_arbitrate, classify_text

    settings.CLASSIFIER_ARBITRATION_THRESHOLD = 1.01
    settings.LLM_MAX_RETRIES = 0
    anthropic_stub.queue(StubResponse(529, error_body("overloaded_error", "busy")))
    text = "Need a website"
    before = classify_text(text=text)
    result = classification_arbitrate(result=classify_text(text=text), text=text, lead_id=None)
    assert (result.intent, result.confidence) == (before.intent, before.confidence)
    assert result.arbitration["decided_by"] == "classifier" and "busy" in result.arbitration["llm"]["error"]


def test_a_confident_classification_is_not_sent_to_the_llm(anthropic_stub, demo_knowledge, settings):
    from intelligence.classification import classification_arbitrate, classify_text

    settings.CLASSIFIER_ARBITRATION_THRESHOLD = 0.0
    result = classification_arbitrate(result=classify_text(text="Need a website"), text="x", lead_id=None)
    assert result.arbitration is None and anthropic_stub.requests == []


def test_no_raw_email_phone_or_name_leaves_the_machine_and_the_reply_gets_them_back(anthropic_stub):
    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "Your booking",
                    "body": "Hi [FIRST_NAME], we will call you on [PHONE_1] today.\n\nMaya",
                    "confidence": 0.9,
                    "reasoning": "r",
                    "facts_used": [],
                }
            ),
        )
    )
    secret_lead = lead(
        name="Priya Shah",
        company="Shah Physio",
        message="Priya here. Reach me at priya.shah@shahphysio.example or +44 7700 900123, "
        "card 4111 1111 1111 1111, clinic at 12 Market Street, Leeds LS1 6DT.",
    )
    draft = draft_reply(lead=secret_lead, intent="hot", snippets=SNIPPETS)

    raw = anthropic_stub.requests[0].raw.decode()
    for secret in [
        "priya.shah@shahphysio.example",
        "7700 900123",
        "4111 1111 1111 1111",
        "Priya",
        "Shah",
        "12 Market Street",
        "LS1 6DT",
    ]:
        assert secret not in raw, secret
    assert "[EMAIL_1]" in raw and "[PHONE_1]" in raw and "[NAME]" in raw
    assert draft.body.startswith("Hi Priya, we will call you on +44 7700 900123 today.")
    stored = ModelCall.objects.get(pk=draft.model_call_id)
    assert "priya.shah@shahphysio.example" not in str(stored.request)  # the log keeps the redacted prompt


def test_redaction_can_be_switched_off(anthropic_stub, settings):
    settings.PII_REDACTION = False
    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message({"subject": "s", "body": "Hello", "confidence": 0.5, "reasoning": "", "facts_used": []}),
        )
    )
    draft_reply(lead=lead(message="mail me at a@b.example"), intent="warm", snippets=SNIPPETS)
    assert "a@b.example" in anthropic_stub.requests[0].raw.decode()


def test_each_draft_shows_its_cost_and_local_model_calls_are_logged(anthropic_stub, demo_knowledge, api):
    from leads.tests.factories import submit_lead
    from messaging.pipeline import lead_process

    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "Hi",
                    "body": "Hi [FIRST_NAME],\n\nThanks.",
                    "confidence": 0.7,
                    "reasoning": "",
                    "facts_used": [],
                },
                input_tokens=1000,
                output_tokens=100,
            ),
        )
    )
    message = lead_process(lead_id=submit_lead("Need a website soon", name="Al Bo").pk)
    shown = api.get(f"/api/messages/{message.pk}/").json()
    assert float(shown["cost_usd"]) == pytest.approx((1000 * 3 + 100 * 15) / 1_000_000)
    operations = set(ModelCall.objects.values_list("operation", flat=True))
    assert {"embed:intent_examples", "embed:knowledge", "classify", "draft"} <= operations
