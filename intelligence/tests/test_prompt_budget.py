"""A draft's prompt stays under LLM_PROMPT_TOKEN_BUDGET (1,500 input tokens) at k=3, measured on the held-out leads."""

from __future__ import annotations

import pytest
from django.conf import settings

from intelligence.classification import classify_text, has_signal
from intelligence.evaluation import read_labelled_csv
from intelligence.models import VoiceExample
from intelligence.prompt_templates import prompt_template_live
from intelligence.prompts import LeadFacts, build_prompt
from intelligence.redaction import Redactor

pytestmark = pytest.mark.django_db


TYPICAL_REPLY = (
    "Hi [FIRST_NAME],\n\nThanks for getting in touch about a new website for your salon. A marketing site like the "
    "one you describe usually takes 4 to 6 weeks from kickoff to launch, and online booking fits in easily: we "
    "connect Fresha or Calendly and style it to match. We would confirm the exact scope on a short call.\n\nCould "
    "we have 15 minutes this week? Reply with two times that suit you.\n\nBest regards,\nMaya"
)


def voice_examples(lead_text: str, reply_text: str) -> list[VoiceExample]:
    return [
        VoiceExample(pk=i, intent="warm", channel="email", lead_text=lead_text, reply_text=reply_text) for i in (1, 2)
    ]


def long_voice_examples() -> list[VoiceExample]:
    """The largest examples a prompt can carry (the prompt cuts each to 600 + 1,200 characters)."""
    return voice_examples("We run a bakery. " * 50, "Hi [FIRST_NAME], thanks for asking about online ordering. " * 30)


def facts(text: str, **overrides) -> LeadFacts:
    values = dict(
        lead_id=None, name="Ruth Okafor", company="Okafor Salon", channel="email", subject="Website", message=text
    )
    return LeadFacts(**{**values, **overrides})


@pytest.mark.parametrize("examples", ["typical", "at the length cap"])
def test_every_held_out_prompt_fits_the_budget_at_k3_with_two_voice_examples(demo_knowledge, examples):
    assert (settings.KNOWLEDGE_TOP_K, settings.LLM_PROMPT_TOKEN_BUDGET) == (3, 1500)
    rows = read_labelled_csv(settings.BASE_DIR / "intelligence" / "eval" / "heldout.csv")
    for row in rows:
        result = classify_text(text=row.message)
        assert len(result.snippets) == (3 if has_signal(row.message) else 0)
        given = voice_examples(rows[0].message, TYPICAL_REPLY) if examples == "typical" else long_voice_examples()
        for channel in ("email", "sms"):
            prompt = build_prompt(
                lead=facts(row.message, channel=channel),
                template=prompt_template_live(intent=row.intent, channel=channel),
                snippets=[vars(s) for s in result.snippets],
                redactor=Redactor(name="Ruth Okafor"),
                examples=given,
            )
            assert prompt.tokens <= 1500, (row.line, channel, prompt.tokens)
            assert prompt.snippets == len(result.snippets), "the knowledge fits: only voice examples are cut here"
            if examples == "typical":
                assert len(prompt.examples) >= 1, "a typical approved reply always fits beside the knowledge"


def test_an_over_long_message_is_cut_last_after_examples_and_lower_ranked_snippets(demo_knowledge):
    huge = "Please read all of this carefully. " * 400
    snippets = [vars(s) for s in classify_text(text="How much does an online shop cost?").snippets]
    prompt = build_prompt(
        lead=facts(huge),
        template=prompt_template_live(intent="warm", channel="email"),
        snippets=snippets,
        examples=long_voice_examples(),
    )
    assert prompt.trimmed[:3] == ["a voice example", "a voice example", "a knowledge snippet"]
    assert prompt.trimmed[-1] == "the end of the lead's message"
    assert (prompt.examples, prompt.snippets) == ([], 1)
    assert prompt.tokens <= 1500 and "[...]" in prompt.user and "</lead_message>" in prompt.user
