"""GET /api/analytics/model-performance/: the models judged by what operators did with their output."""

from __future__ import annotations

import pytest

from intelligence.corrections import lead_correct_intent
from leads.tests.factories import submit_lead
from messaging.pipeline import lead_process
from messaging.review import message_approve, message_reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(demo_knowledge):
    hot = lead_process(lead_id=submit_lead("We need an online shop this month, budget ready, start now").pk)
    cold = lead_process(lead_id=submit_lead("Just browsing, nice website.").pk)
    warm = lead_process(lead_id=submit_lead("What does a website for a small bakery cost, roughly?").pk)
    message_approve(message_id=hot.pk, actor="user:op", body=hot.body + "\n\nP.S. Call me.")
    message_reject(message_id=cold.pk, actor="user:op", reason="not a lead")
    lead_correct_intent(lead_id=cold.lead_id, intent="hot", actor="user:op")  # the classifier was wrong
    lead_correct_intent(lead_id=hot.lead_id, intent="hot", actor="user:op")  # confirmed: not a correction
    return {"hot": hot, "cold": cold, "warm": warm}


def test_agreement_corrections_and_drafts_are_reported(api, reviewed):
    response = api.get("/api/analytics/model-performance/", {"days": 7})
    assert response.status_code == 200
    report = response.json()
    assert (report["classified_leads"], report["corrected_leads"]) == (3, 1)
    assert report["agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["corrections"] == {f"{reviewed['cold'].classification.intent} -> hot": 1}
    assert sum(band["leads"] for band in report["by_confidence"]) == 3
    assert sum(band["corrected"] for band in report["by_confidence"]) == 1
    fallback = next(row for row in report["drafts"] if row["generated_by"] == "fallback")
    assert (fallback["drafts"], fallback["approved"], fallback["rejected"], fallback["edit_rate"]) == (3, 1, 1, 1.0)
    assert fallback["mean_edit_size"] == len("\n\nP.S. Call me.")
    assert report["classify_p50_ms"] > 0 and report["llm_calls"] == 0


def test_the_analytics_page_shows_model_performance(admin_client, reviewed):
    html = admin_client.get("/analytics/model/").content.decode()
    assert "Analytics: model performance" in html and "agreement with operators" in html and ">66.7%<" in html


def test_the_window_is_validated(api, db):
    response = api.get("/api/analytics/model-performance/", {"days": "-1"})
    assert response.status_code == 400 and "days" in response.json()["error"]["fields"]
