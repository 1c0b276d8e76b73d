"""Observability: Prometheus reads the business's numbers from the database (the same in every process), and the
JSON log lines carry the request id, the lead id and the message id from the API through the job to the send."""

from __future__ import annotations

import io
import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db
EVENTS = ("lead.ingested", "lead.drafted", "message.sent")
HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


def scrape(client) -> dict[str, list]:
    families = text_string_to_metric_families(client.get("/metrics").content.decode())
    return {family.name: family.samples for family in families}


def value(samples: list, name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert found, (name, labels, samples)
    return found[0]


def test_prometheus_shows_leads_latency_llm_messages_and_rejections(client, anthropic_stub, demo_knowledge):
    reply = {"subject": "Hi", "body": "Hi [FIRST_NAME],\n\nThanks.", "confidence": 0.9, "reasoning": ""}
    anthropic_stub.queue(StubResponse(200, tool_use_message(reply, input_tokens=1000, output_tokens=100)))
    lead_process(lead_id=submit_lead(HOT, email="a@salon.example", name="Sam Lee").pk)
    submit_lead("What does a logo cost?", email="b@salon.example", source="typeform:spring")
    refused = client.post("/webhooks/twilio/status/", {"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert refused.status_code == 403

    metrics = scrape(client)
    leads = metrics["bizpilot_leads_ingested"]
    assert value(leads, "bizpilot_leads_ingested_total", source="api") == 1
    assert value(leads, "bizpilot_leads_ingested_total", source="typeform:spring") == 1
    latency = metrics["bizpilot_classification_latency_seconds"]
    assert value(latency, "bizpilot_classification_latency_seconds_count") == 1
    assert value(latency, "bizpilot_classification_latency_seconds_bucket", le="+Inf") == 1
    assert value(latency, "bizpilot_classification_latency_seconds_sum") > 0
    tokens = metrics["bizpilot_llm_tokens"]
    model = "claude-sonnet-5-5"
    assert value(tokens, "bizpilot_llm_tokens_total", provider="anthropic", model=model, kind="input") == 1000
    assert value(tokens, "bizpilot_llm_tokens_total", provider="anthropic", model=model, kind="output") == 100
    cost = value(metrics["bizpilot_llm_cost_usd"], "bizpilot_llm_cost_usd_total", provider="anthropic", model=model)
    assert cost == pytest.approx((1000 * 3 + 100 * 15) / 1e6)
    calls = metrics["bizpilot_llm_calls"]
    assert value(calls, "bizpilot_llm_calls_total", operation="draft", status="ok") == 1
    assert value(metrics["bizpilot_messages"], "bizpilot_messages", channel="email", status="pending_review") == 1
    assert value(metrics["bizpilot_webhook_rejections"], "bizpilot_webhook_rejections_total", source="twilio") == 1
    assert "bizpilot_queue_waiting_tasks" in metrics and "bizpilot_queue_oldest_task_age_seconds" in metrics


@pytest.fixture
def json_logs():
    """Every log line as the production formatter writes it (one JSON object a line), collected."""
    from bizpilot.logging import build_logging_config

    config = build_logging_config(level="INFO", fmt="json")["formatters"]["structured"]
    formatter = config.pop("()")(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)  # (setLevel, not the attribute: loggers cache what their level allows)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.django_db(transaction=True)  # real commits: jobs are enqueued inside the request, as in production
def test_the_request_id_follows_a_lead_through_its_job_and_its_send(api, demo_knowledge, json_logs):
    body = {"name": "Sam Lee", "email": "sam@salon.example", "message": HOT}
    created = api.post("/api/leads/", body, format="json", HTTP_X_REQUEST_ID="req-in-1")
    assert created.status_code == 202
    lead_id = created.json()["id"]
    message = Message.objects.get(lead_id=lead_id)  # drafted by the job the request enqueued (run inline in tests)
    approve = {"action": "approve"}
    review = api.post(f"/api/messages/{message.pk}/review/", approve, format="json", HTTP_X_REQUEST_ID="req-rev-2")
    assert review.status_code == 200
    lines = {line["event"]: line for line in json_logs() if line.get("event") in EVENTS}
    ingested, drafted, sent = (lines[event] for event in EVENTS)
    assert (ingested["request_id"], ingested["lead_id"]) == ("req-in-1", lead_id)
    assert (drafted["request_id"], drafted["lead_id"], drafted["message_id"]) == ("req-in-1", lead_id, message.pk)
    assert drafted["task"] == f"process_lead-{lead_id}"  # the line came from the job
    assert (sent["request_id"], sent["lead_id"], sent["message_id"]) == ("req-rev-2", lead_id, message.pk)
    assert sent["task"] == f"send_message-{message.pk}"


def test_a_job_in_a_worker_starts_with_only_the_ids_it_was_given():
    import structlog

    from bizpilot.logging import JOB_CONTEXT_KWARG, bind_job_context

    structlog.contextvars.bind_contextvars(request_id="left-over", lead_id=99)
    task = {"name": "send_message-7", "kwargs": {JOB_CONTEXT_KWARG: {"request_id": "req-7"}}, "sync": False}
    bind_job_context("django_q", func=None, task=task)
    assert structlog.contextvars.get_contextvars() == {"request_id": "req-7", "task": "send_message-7"}
    assert task["kwargs"] == {}  # the task function never sees the carried ids
    structlog.contextvars.clear_contextvars()
