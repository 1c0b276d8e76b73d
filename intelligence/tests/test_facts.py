"""The knowledge a reply quotes is the chunk that answers the lead's question: measured on a labelled set for the demo
business (the development set) and on a second business's set written after the method was fixed. Real embedding
model, real pgvector."""

from __future__ import annotations

import pytest
from django.conf import settings

from intelligence.evaluation import EvaluationInputError, evaluate_facts, read_fact_csv
from intelligence.facts import bm25, sentences
from intelligence.knowledge import knowledge_load_path
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process

EVAL = settings.BASE_DIR / "intelligence" / "eval"


def test_the_chosen_chunk_answers_the_demo_businesss_leads(demo_knowledge):
    report = evaluate_facts(read_fact_csv(EVAL / "fact_choice.csv"))
    assert report["n"] == 83
    assert report["top1_accuracy"] >= 0.8
    assert report["top1_accuracy"] >= report["top1_nearest_chunk"]


def test_the_chosen_chunk_answers_another_businesss_leads(db):
    knowledge_load_path(path=EVAL / "knowledge_clinic")
    report = evaluate_facts(read_fact_csv(EVAL / "fact_choice_clinic.csv"))
    assert report["n"] == 50
    assert report["top1_accuracy"] >= 0.8


def test_a_fallback_reply_quotes_the_fact_that_answers_the_question(demo_knowledge):
    lead = submit_lead(
        "I run a florist and need an online shop before Valentine's Day. How much would that cost?",
        email="rosa@florist.example",
        name="Rosa",
    )
    message = lead_process(lead_id=lead.pk)
    assert message is not None and message.generated_by == "fallback"
    assert "An online shop starts at £6,000" in message.body
    assert "Calendly" not in message.body and "booking" not in message.body.lower()


def test_a_fact_set_naming_knowledge_that_does_not_exist_is_refused_line_by_line(demo_knowledge, tmp_path):
    path = tmp_path / "facts.csv"
    path.write_text("message,answer\nhow much?,Pricing\nparking?,Car park\ncall me,\n", encoding="utf-8")
    with pytest.raises(EvaluationInputError) as error:
        read_fact_csv(path)
    assert "line 3: answer names 'Car park'" in str(error.value)
    assert "line 4: answer names nothing" in str(error.value)


def test_sentences_and_bm25_read_the_words():
    assert sentences("Yes. We start with a £350 audit. Then we quote.") == [
        "We start with a £350 audit.",
        "Then we quote.",
    ]
    scores = bm25("can I pay by card", ["We accept bank transfer and card payments.", "A site takes 4 weeks."])
    assert scores[0] > 0 and scores[1] == 0
