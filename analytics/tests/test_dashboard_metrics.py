from __future__ import annotations

import pytest

from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.review import message_approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_leads(demo_knowledge, django_capture_on_commit_callbacks):
    for email, text in [
        ("a@shop.example", "We need an online shop this month, budget ready, start now"),
        ("b@mail.example", "Just browsing, nice website."),
    ]:
        lead = submit_lead(text, email=email)
        lead_process(lead_id=lead.pk)
    first = Message.objects.order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        message_approve(message_id=first.pk, actor="user:admin", body=first.body + "\n\nP.S. edited")


def test_metrics_api_counts_leads_replies_and_edits(api, two_leads):
    response = api.get("/api/dashboard/metrics/", {"days": 7})
    assert response.status_code == 200
    metrics = response.json()
    assert metrics["window_days"] == 7
    assert metrics["leads_total"] == 2
    assert metrics["leads_by_intent"] == {"hot": 1, "cold": 1}
    assert metrics["messages_by_status"] == {"sent": 1, "pending_review": 1}
    assert metrics["drafts_by_generator"] == {"fallback": 2}
    assert metrics["edit_rate"] == 1.0
    assert metrics["mean_edit_size"] == len("\n\nP.S. edited")  # the one approved draft gained that text
    assert metrics["median_minutes_to_draft"] is not None and metrics["median_minutes_to_send"] is not None


def test_metrics_api_validates_its_window(api, db):
    response = api.get("/api/dashboard/metrics/", {"days": "0"})
    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]


def test_analytics_page_renders_the_same_numbers_for_staff(admin_client, two_leads):
    page = admin_client.get("/analytics/")
    assert page.status_code == 200
    html = admin_client.get("/analytics/messaging/").content.decode()
    assert "edited before approval" in html and "100%" in html  # the one approved draft was edited
    assert "Leads per day by intent" in page.content.decode()


def test_analytics_page_needs_a_staff_login(client, db):
    response = client.get("/analytics/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_llm_cost_is_shown_per_draft_and_in_aggregate_by_model(api, admin_client, anthropic_stub, demo_knowledge):
    from intelligence.tests.anthropic_stub import StubResponse, error_body, tool_use_message

    reply = {
        "subject": "Hi",
        "body": "Hi [FIRST_NAME],\n\nThanks.",
        "confidence": 0.7,
        "reasoning": "",
        "facts_used": [],
    }
    anthropic_stub.queue(
        StubResponse(200, tool_use_message(reply, input_tokens=1000, output_tokens=100)),
        StubResponse(200, tool_use_message(reply, input_tokens=1200, output_tokens=300)),
    )
    for email in ("a@shop.example", "b@shop.example"):
        # A lead the classifier is sure of: no arbitration call, only the two drafts cost money.
        text = "We need a new website for our salon next month, budget approved, can we start this week?"
        lead_process(lead_id=submit_lead(text, email=email, name="Al Bo").pk)
    metrics = api.get("/api/dashboard/metrics/").json()
    first, second = (1000 * 3 + 100 * 15) / 1e6, (1200 * 3 + 300 * 15) / 1e6
    assert metrics["llm_cost_usd"] == pytest.approx(first + second)
    assert metrics["llm_cost_per_draft_usd"] == pytest.approx((first + second) / 2)
    [drafts] = [row for row in metrics["llm_usage"] if row["operation"] == "draft"]
    assert (drafts["provider"], drafts["model"]) == ("anthropic", "claude-sonnet-5-5")
    assert (drafts["calls"], drafts["errors"]) == (2, 0)
    assert (drafts["input_tokens"], drafts["output_tokens"]) == (2200, 400)
    assert all(row["provider"] != "local" for row in metrics["llm_usage"])  # embeddings cost nothing per call

    anthropic_stub.queue(StubResponse(400, error_body("invalid_request_error", "bad")))
    lead_process(lead_id=submit_lead("We need a website", email="c@shop.example", name="Al Bo").pk)
    metrics = api.get("/api/dashboard/metrics/").json()
    [drafts] = [row for row in metrics["llm_usage"] if row["operation"] == "draft"]
    assert (drafts["calls"], drafts["errors"]) == (3, 1)

    html = admin_client.get("/analytics/model/").content.decode()
    assert "Model usage and cost" in html and "claude-sonnet-5-5" in html and "LLM cost per draft" in html
