from __future__ import annotations

import json

import pytest

from intelligence.classification import classify_text
from intelligence.corrections import lead_correct_intent
from intelligence.models import Classification, IntentExample
from leads.models import Lead
from leads.tests.factories import submit_lead

pytestmark = pytest.mark.django_db

# A kind of message the seed examples say nothing about; operators know it is a hot lead for this business.
ODD_LEAD = "Is the Thursday pottery wheel slot free for my group of eight? We'd take it."
SIMILAR = "Is the Friday pottery wheel slot free for a group of six? We would take it."


def make_lead(text: str) -> Lead:
    return submit_lead(text, email="c@clay.example")


def test_a_correction_teaches_the_classifier_for_the_next_similar_lead(demo_knowledge):
    before = classify_text(text=SIMILAR)
    lead = make_lead(ODD_LEAD)
    target = "warm" if before.intent == "hot" else "hot"
    # Three operator corrections of this kind of request.
    for text in [
        ODD_LEAD,
        "Is the Saturday pottery wheel slot free for two of us? We'd take it.",
        "Is the Monday pottery wheel slot still free for my class of ten? We'll take it.",
    ]:
        lead = make_lead(text)
        lead_correct_intent(lead_id=lead.pk, intent=target, actor="user:operator")

    after = classify_text(text=SIMILAR)
    assert after.intent == target, after.explanation()
    assert after.neighbours[0].origin == "operator"
    assert IntentExample.objects.filter(origin="operator", intent=target).count() == 3


def test_a_correction_is_recorded_on_the_lead_and_kept_in_the_history(demo_knowledge):
    lead = make_lead("Just browsing your site, lovely photos.")
    correction = lead_correct_intent(lead_id=lead.pk, intent="warm", actor="user:operator")
    lead.refresh_from_db()
    assert (lead.intent, lead.intent_confidence) == ("warm", 1.0)
    assert correction.method == "operator" and "user:operator" in correction.explanation["summary"]
    example = IntentExample.objects.get(pk=correction.explanation["learned_example_id"])
    assert (example.origin, example.source_lead_id, example.created_by) == ("operator", lead.pk, "user:operator")
    assert Classification.objects.filter(lead=lead).count() == 1


def test_correcting_twice_relabels_the_same_example(demo_knowledge):
    lead = make_lead("We may need a new logo at some point.")
    lead_correct_intent(lead_id=lead.pk, intent="hot", actor="user:a")
    lead_correct_intent(lead_id=lead.pk, intent="cold", actor="user:b")
    assert IntentExample.objects.filter(origin="operator").count() == 1
    assert IntentExample.objects.get(origin="operator").intent == "cold"


def test_the_api_corrects_an_intent_and_validates_it(api, demo_knowledge):
    lead = make_lead("Could you tell me about prices?")
    response = api.post(f"/api/leads/{lead.pk}/intent/", json.dumps({"intent": "hot"}), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["intent"] == "hot" and response.json()["learned_example"]
    assert api.get(f"/api/leads/{lead.pk}/").json()["intent"] == "hot"

    bad = api.post(f"/api/leads/{lead.pk}/intent/", json.dumps({"intent": "lukewarm"}), content_type="application/json")
    assert bad.status_code == 400 and "intent" in bad.json()["error"]["fields"]
    missing = api.post("/api/leads/99999/intent/", json.dumps({"intent": "hot"}), content_type="application/json")
    assert missing.status_code == 404


def test_the_review_admin_corrects_intents(admin_client, demo_knowledge):
    from messaging.models import Message
    from messaging.pipeline import lead_process

    lead = make_lead("Need a website for my dental clinic soon")
    lead_process(lead_id=lead.pk)
    message = Message.objects.get(lead=lead)
    admin_client.post("/admin/messaging/message/", {"action": "intent_cold", "_selected_action": [message.pk]})
    lead.refresh_from_db()
    assert lead.intent == "cold"
    assert IntentExample.objects.filter(origin="operator", source_lead=lead, intent="cold").exists()
