"""Real django-q2 clusters under `manage.py run_worker`, one per queue, process leads through the ORM broker in the
same database; LLM work has its own queue, so a slow model never holds up a send."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django_q.conf import Conf
from django_q.models import Task

from bizpilot.tests.processes import test_database_url, wait_for
from bizpilot.worker import ready_workers
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, tool_use_message
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.review import message_approve

DRAFT_SECONDS = 12


@pytest.mark.django_db(transaction=True)
def test_real_clusters_draft_on_the_llm_queue_and_send_beside_a_slow_model(demo_knowledge, monkeypatch, client):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue through the ORM broker instead of running inline
    claude = AnthropicStub().start()
    reply = {"subject": "Your shop", "body": "Hi Kim,\n\nHappy to help.\n\nMaya", "confidence": 0.9}
    claude.queue(
        StubResponse(200, tool_use_message({**reply, "reasoning": "clear", "facts_used": []}), delay=DRAFT_SECONDS)
    )
    sendgrid = AnthropicStub().start()
    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-1"}))
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "WORKER_PROCESSES": "1",
        "LLM_WORKER_PROCESSES": "1",
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": claude.base_url,
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{sendgrid.base_url}/v3/",
        "HF_HUB_OFFLINE": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: ready_workers(worker.pid) == 2, timeout=60, what="one worker per queue", processes=[worker])
        lead = submit_lead(
            "Need an online shop before Mother's Day, can pay now", name="Kim", email="kim@kimsflorist.example"
        )
        # The LLM cluster's only worker is busy drafting (Claude takes DRAFT_SECONDS) ...
        wait_for(lambda: len(claude.requests) >= 1, timeout=90, what="the draft request to Claude", processes=[worker])
        # ... and a reply approved now goes out at once on the default queue, not after the draft.
        other = Lead.objects.create(name="Ann", email="ann@bakery.example", state=Lead.State.DRAFTED)
        draft = Message.objects.create(
            lead=other,
            channel="email",
            to_address=other.email,
            subject="Tuesday",
            body="Hi Ann,\n\nSee you then.\n\nMaya",
            status=Message.Status.PENDING_REVIEW,
        )
        approved_at = time.monotonic()
        message_approve(message_id=draft.pk, actor="user:operator")
        sent_after = wait_for(
            lambda: len(sendgrid.requests) == 1, timeout=DRAFT_SECONDS, what="the send", processes=[worker], every=0.2
        )
        assert Lead.objects.get(pk=lead.pk).state != "drafted", "the draft finished first: the test proved nothing"
        print(f"sent {sent_after:.1f} s after approval while the LLM queue was busy")

        wait_for(
            lambda: Lead.objects.get(pk=lead.pk).state == "drafted",
            timeout=120,
            what="the lead drafted",
            processes=[worker],
        )
        lead.refresh_from_db()
        assert lead.intent == "hot"
        assert Message.objects.get(lead=lead).status == "pending_review"
        assert time.monotonic() - approved_at < DRAFT_SECONDS + 30
        # The cluster's monitor saves a task's result after the task's own commit: wait for it, not for the lead.
        wait_for(
            lambda: Task.objects.filter(name=f"process_lead-{lead.pk}").exists(),
            timeout=30,
            what="the draft task's result",
            processes=[worker],
        )
        ran_on = dict(Task.objects.values_list("name", "cluster"))
        assert ran_on[f"process_lead-{lead.pk}"] == settings.LLM_QUEUE
        assert ran_on[f"send_message-{draft.pk}"] == settings.JOB_QUEUE

        health = client.get("/healthz").json()
        queue = health["checks"]["queue"]
        assert queue["ok"] is True and health["status"] == "ok"
        assert queue["workers_alive"] == 2  # one cluster per queue
        assert set(queue["queues"]) == {settings.JOB_QUEUE, settings.LLM_QUEUE}
    finally:
        worker.send_signal(signal.SIGTERM)  # run_worker stops each cluster, which stops its own workers
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        claude.stop()
        sendgrid.stop()
        print(output.decode(errors="replace")[-3000:])  # shown by pytest only when the test fails
