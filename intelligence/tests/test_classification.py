from __future__ import annotations

import pytest

from intelligence.classification import classify_text, lead_text
from intelligence.examples import intent_examples_add
from intelligence.models import IntentExample

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "Our gym opens in three weeks and we need a website with class booking. Budget signed off, start asap?",
            "hot",
        ),
        (
            "Roughly what would a small website for a dog grooming business cost? Just weighing up options.",
            "warm",
        ),
        ("Are there any vacancies for graduate web developers at your company?", "cold"),
    ],
)
def test_unseen_leads_get_the_intent_of_their_nearest_labelled_examples(demo_knowledge, text, intent):
    result = classify_text(text=text)
    assert result.intent == intent, result.explanation()
    assert 0.34 < result.confidence <= 1.0
    assert result.neighbours, "the explanation lists the neighbours that voted"
    assert result.neighbours[0].similarity >= result.neighbours[-1].similarity
    assert {"text", "intent", "similarity", "origin"} <= set(result.explanation()["neighbours"][0])
    assert abs(sum(result.scores.values()) - 1) < 1e-3
    assert result.snippets, "knowledge snippets come back as context"


def test_knowledge_snippets_are_the_relevant_facts(demo_knowledge):
    result = classify_text(text="How much does an online shop cost and how long does it take?")
    headings = [s.heading for s in result.snippets]
    assert "Pricing" in headings or "Timelines" in headings, headings


def test_a_new_labelled_example_changes_the_vote_for_similar_text(demo_knowledge):
    text = "Could you quote for translating our brochure into Welsh?"
    assert IntentExample.objects.filter(text__icontains="Welsh").count() == 0
    for _ in range(1):
        intent_examples_add(
            examples=[
                ("We need our brochure translated into Welsh, please quote.", "hot"),
                ("Can you translate our leaflet into Welsh? Please send a price.", "hot"),
                ("Quote needed: Welsh translation of our brochure, urgent.", "hot"),
            ],
            origin=IntentExample.Origin.OPERATOR,
        )
    result = classify_text(text=text)
    assert result.intent == "hot"
    assert result.neighbours[0].origin == "operator"


def test_empty_text_is_classified_with_no_confidence_and_says_why(demo_knowledge):
    result = classify_text(text="   ")
    assert result.confidence < 0.34
    assert result.neighbours == []
    assert "no message text" in result.explanation()["summary"]


def test_a_message_longer_than_the_model_window_is_noted(demo_knowledge):
    result = classify_text(text="We urgently need a new shop website. " * 400)
    assert any("token window" in note for note in result.notes)


def test_html_is_reduced_to_text_before_classifying():
    assert lead_text(subject="Quote", body="<p>Hello <b>there</b></p><br>Call me") == "Quote Hello there Call me"


def test_classifying_without_examples_fails_loudly(db):
    with pytest.raises(RuntimeError, match="setup_install"):
        classify_text(text="Need a website")


@pytest.mark.parametrize(
    "text",
    ["👍🔥🔥", "https://example.com/landing?utm=1", "???", "www.example.org", "\n\t  "],
)
def test_text_without_words_gets_low_confidence_and_a_reason(demo_knowledge, text):
    result = classify_text(text=text)
    assert result.confidence <= 0.34
    assert result.notes and result.neighbours == []


@pytest.mark.parametrize(
    "text",
    [
        "Necesitamos una página web urgente para nuestra clínica, ¿pueden empezar esta semana?",
        "我们需要一个新网站",
        "Need a website 🚀🚀 asap!!! can pay today 💸",
        "<html><body><div>We need a quote</div><p>for a <b>new shop</b></p></body></html>",
        "Hi " * 5000,
    ],
)
def test_unusual_input_is_classified_without_errors(demo_knowledge, text):
    result = classify_text(text=lead_text(subject="", body=text))
    assert result.intent in {"hot", "warm", "cold"}
    assert 0 < result.confidence <= 1
    assert result.explanation()["summary"]


def test_the_full_pipeline_survives_a_10000_character_html_email(api, demo_knowledge):
    import json

    body = "<p>" + ("We are interested in a website redesign. " * 240)[:9990] + "</p>"
    response = api.post(
        "/api/leads/", json.dumps({"email": "long@x.example", "message": body}), content_type="application/json"
    )
    assert response.status_code == 202
    from messaging.pipeline import lead_process

    lead_process(lead_id=response.json()["id"])
    detail = api.get(f"/api/leads/{response.json()['id']}/").json()
    assert detail["state"] == "drafted"
    assert any("token window" in note for note in detail["explanation"]["notes"])
