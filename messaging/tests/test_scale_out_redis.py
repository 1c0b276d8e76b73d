"""Scale out: django-q2 on a real Redis (Debian's redis-server) with two `run_worker` processes, as two worker
machines would run them (each with a cluster per queue). 500 leads arrive; every lead is drafted once and every
approved reply is sent once (anymail's SendGrid backend to a local stub that counts deliveries), and both machines
did part of the work."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django_q.conf import Conf

from bizpilot.audit import AuditEvent
from bizpilot.tests.processes import free_port, test_database_url, wait_for
from bizpilot.worker import ready_workers
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.review import message_approve

pytestmark = pytest.mark.timeout(600)
LEADS = 500
REDIS_SERVER = os.environ.get("BIZPILOT_REDIS_SERVER", shutil.which("redis-server") or "/usr/bin/redis-server")
TEXTS = [
    "We need a new website for our salon next month, budget approved, can we start?",
    "How much would a booking system for a physio clinic cost?",
    "Just browsing, what kind of sites do you build?",
    "Can you redesign our bakery's site before Christmas? Ready to sign.",
]


@pytest.fixture
def redis_url(tmp_path: Path):
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    wait_for(lambda: _pings(client), timeout=20, what="redis-server")
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.mark.django_db(transaction=True)
def test_two_worker_machines_on_redis_draft_every_lead_once_and_send_every_reply_once(
    demo_knowledge, monkeypatch, redis_url, tmp_path: Path, client
):
    # This process enqueues to Redis too, as a web replica would.
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", redis_url)
    sendgrid = AnthropicStub().start()
    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-redis"}))
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "Q_BROKER_URL": redis_url,
        "WORKER_PROCESSES": "1",
        "LLM_WORKER_PROCESSES": "1",
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{sendgrid.base_url}/v3/",
        "LOG_LEVEL": "INFO",  # each task a worker runs is logged: which machine did what
        "ANTHROPIC_API_KEY": "",  # fallback drafts: the LLM is not what is under test
        "HF_HUB_OFFLINE": "1",
    }
    logs = [tmp_path / f"machine-{n}.log" for n in (1, 2)]
    machines = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for path in logs
    ]
    try:

        def workers_up() -> bool:
            return all(ready_workers(machine.pid) == 2 for machine in machines)

        wait_for(workers_up, timeout=120, what="the workers", processes=machines, logs=logs)
        started = time.monotonic()
        leads = [
            submit_lead(TEXTS[i % len(TEXTS)], name=f"Person {i}", email=f"p{i}@redis.example") for i in range(LEADS)
        ]
        ids = [lead.pk for lead in leads]
        drafted = lambda: Message.objects.filter(lead_id__in=ids).count() >= LEADS  # noqa: E731
        wait_for(drafted, timeout=400, what="every lead drafted", processes=machines, logs=logs)
        draft_seconds = time.monotonic() - started
        drafts = list(Message.objects.filter(lead_id__in=ids, status=Message.Status.PENDING_REVIEW))
        for message in drafts:
            message_approve(message_id=message.pk, actor="user:operator")
        approved = {m.pk for m in drafts}
        sent = lambda: Message.objects.filter(pk__in=approved, status=Message.Status.SENT).count() == len(approved)  # noqa: E731
        wait_for(sent, timeout=300, what="every approved reply sent", processes=machines, logs=logs)
        health = client.get("/healthz").json()
    finally:
        for machine in machines:
            machine.send_signal(signal.SIGTERM)
        for machine in machines:
            try:
                machine.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(machine.pid, signal.SIGKILL)
                machine.wait()
        sendgrid.stop()
    print(f"{LEADS} leads drafted in {draft_seconds:.1f} s by two machines on Redis")

    # Every lead drafted once: one reply each, one draft recorded each.
    per_lead = Counter(Message.objects.filter(lead_id__in=ids).values_list("lead_id", flat=True))
    assert set(per_lead) == set(ids) and set(per_lead.values()) == {1}
    draft_events = Counter(
        AuditEvent.objects.filter(action="message.draft", object_type="messaging.Message").values_list(
            "object_id", flat=True
        )
    )
    assert len(draft_events) == LEADS and set(draft_events.values()) == {1}
    # Every approved reply sent once (the auto-sent ones too).
    deliveries = Counter(r.body["custom_args"]["bizpilot_message_id"] for r in sendgrid.requests)
    assert set(deliveries.values()) == {1}
    sent_ids = set(Message.objects.filter(lead_id__in=ids, status=Message.Status.SENT).values_list("pk", flat=True))
    assert {str(pk) for pk in sent_ids} == set(deliveries) and approved <= sent_ids
    # Both machines took part, on both queues, and Redis was the broker.
    for path in logs:
        text = path.read_text(errors="replace")
        assert len(re.findall(r"processing process_lead-", text)) > 0, text[-2000:]
        assert len(re.findall(r"processing send_message-", text)) > 0, text[-2000:]
    assert health["checks"]["queue"]["workers_alive"] == 4  # two machines, a cluster per queue each
    assert Lead.objects.filter(pk__in=ids, state__in=["drafted", "contacted"]).count() == LEADS
