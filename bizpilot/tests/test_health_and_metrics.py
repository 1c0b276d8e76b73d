from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_checks_database_and_queue_and_reports_no_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["pgvector"].startswith("0.")
    assert body["checks"]["queue"]["ok"] is True
    assert body["checks"]["queue"]["workers_alive"] == 0
    assert body["status"] == "degraded"  # no worker runs in this test


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise ConnectionError("server closed the connection")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert "server closed" in response.json()["checks"]["database"]["error"]


def test_prometheus_metrics_are_exposed(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "django_http_requests_total_by_view_transport_method_total" in response.content.decode()


def test_every_response_carries_a_request_id_and_a_valid_incoming_one_is_kept(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_logs_are_json_lines_with_the_request_id(api, capfd):
    import logging

    from bizpilot.logging import build_logging_config, configure

    configure(build_logging_config(level="INFO", fmt="json"))
    try:
        api.post("/api/leads/", "{broken", content_type="application/json", HTTP_X_REQUEST_ID="req-42")
    finally:
        logging.getLogger().setLevel(logging.WARNING)
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "req-42" and line["level"] == "warning" for line in lines), lines


def test_openapi_schema_and_swagger_ui_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in [
        "/api/leads/",
        "/api/leads/{lead_id}/",
        "/api/messages/",
        "/api/messages/{message_id}/review/",
    ]:
        assert path in text
    assert "bearer" in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and "swagger" in docs.content.decode().lower()


def test_healthz_warns_about_a_deprecated_llm_model(client, settings):
    settings.LLM_MODEL = "claude-sonnet-4-5"  # in the installed SDK's deprecation table
    llm = client.get("/healthz").json()["details"]["llm"]
    assert llm["model"] == "claude-sonnet-4-5" and "end of life" in llm["warning"]
    settings.LLM_MODEL = "claude-sonnet-5-5"  # the default: current and not deprecated
    assert "warning" not in client.get("/healthz").json()["details"]["llm"]


def test_a_deprecated_model_is_warned_about_at_start_up():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {**os.environ, "LLM_MODEL": "claude-sonnet-4-5", "BIZPILOT_ENV": "development", "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "claude-sonnet-4-5 is deprecated" in result.stderr


@pytest.fixture
def frozen_queue(monkeypatch, settings):
    """A task queued two minutes ago through the real broker, and nothing finished since."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    monkeypatch.setattr(Conf, "SYNC", False)
    settings.WORKER_STALL_SECONDS = 60
    async_task("messaging.tasks.process_lead", 1, task_name="process_lead-1", cluster=settings.LLM_QUEUE)
    OrmQ.objects.update(lock=timezone.now() - timedelta(seconds=120))


def test_healthz_says_stalled_when_tasks_wait_and_none_finishes(client, frozen_queue):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "stalled"
    queue = body["checks"]["queue"]
    assert queue["stalled"] is True and queue["waiting"] == 1 and queue["oldest_task_age_seconds"] >= 119
    # The LLM queue is the one stalled; the default queue is fine.
    assert queue["queues"]["bizpilot-llm"]["stalled"] is True and queue["queues"]["bizpilot-llm"]["waiting"] == 1
    assert queue["queues"]["bizpilot"]["stalled"] is False and queue["queues"]["bizpilot"]["waiting"] == 0


def test_a_worker_busy_on_a_long_task_is_not_a_stall(client, frozen_queue):

    from bizpilot.queue import report_workers

    worker = {"pid": 42, "rss_bytes": 650 * 2**20, "busy": True}
    # Busy on the other queue does not explain a stall on this one.
    report_workers(
        "host:1:bizpilot", {"queue": "bizpilot", "host": "host", "at": "now", "workers": [worker]}, timeout=60
    )
    assert client.get("/healthz").json()["checks"]["queue"]["stalled"] is True
    report = {"queue": "bizpilot-llm", "host": "host", "at": "now", "workers": [{**worker, "pid": 43}]}
    report_workers("host:1:bizpilot-llm", report, timeout=60)
    body = client.get("/healthz").json()
    assert body["checks"]["queue"]["stalled"] is False
    assert body["checks"]["queue"]["worker_processes"] == [
        {"queue": "bizpilot", "pid": 42, "rss_mb": 650.0, "busy": True},
        {"queue": "bizpilot-llm", "pid": 43, "rss_mb": 650.0, "busy": True},
    ]


def test_prometheus_has_the_queue_and_worker_gauges(client, frozen_queue):
    text = client.get("/metrics").content.decode()
    assert 'bizpilot_queue_waiting_tasks{queue="bizpilot-llm"} 1.0' in text
    assert 'bizpilot_queue_waiting_tasks{queue="bizpilot"} 0.0' in text
    assert 'bizpilot_queue_stalled{queue="bizpilot-llm"} 1.0' in text
    assert "bizpilot_worker_restarts_total 0.0" in text
    prefix = 'bizpilot_queue_oldest_task_age_seconds{queue="bizpilot-llm"} '
    oldest = next(line for line in text.splitlines() if line.startswith(prefix))
    assert float(oldest.split()[1]) >= 119
