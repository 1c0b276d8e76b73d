"""A killed worker must not stop BizPilot answering leads: a real `manage.py run_worker` (one qcluster per queue
under its watchdog) on the test database, its worker processes killed with SIGKILL as the out-of-memory killer
would, while replies go out through anymail's SendGrid backend to a local stub that counts every delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django_q.conf import Conf

from bizpilot.queue import queue_state, worker_restarts
from bizpilot.tests.processes import test_database_url, wait_for
from bizpilot.worker import cluster_workers, ready_workers
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse, tool_use_message
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.review import message_approve

STALL_SECONDS = 8
DRAFT_SECONDS = 4
LEADS = [
    "We need a new website for our salon next month, budget approved, can we start?",
    "How much would a booking system for a physio clinic cost?",
    "Can you redesign our bakery's site before Christmas? Ready to sign.",
    "What do you charge for a small online shop?",
    "Need a quote for a restaurant website with online ordering, this month",
    "Do you do SEO as well as websites? Just comparing options.",
]


def approve_new_drafts() -> None:
    for message_id in Message.objects.filter(status="pending_review").values_list("pk", flat=True):
        message_approve(message_id=message_id, actor="user:operator")


def idle_queue() -> bool:
    state = queue_state()
    return state.waiting + state.in_flight == 0


def all_answered(leads: list[Lead]) -> bool:
    drafted = Lead.objects.filter(pk__in=[lead.pk for lead in leads], state__in=["drafted", "contacted"]).count()
    sent = Message.objects.filter(lead__in=leads, status="sent").count()
    return drafted == len(leads) and sent == len(leads)


@pytest.mark.django_db(transaction=True)
def test_killed_workers_never_freeze_the_queue(demo_knowledge, monkeypatch, client, tmp_path: Path):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue through the ORM broker, for the real cluster
    # /healthz (this process) calls a queue stalled after half the watchdog's window, so the test sees the stall
    # before the watchdog (which restarts at STALL_SECONDS) ends it.
    monkeypatch.setattr(settings, "WORKER_STALL_SECONDS", STALL_SECONDS // 2)
    sendgrid = AnthropicStub().start()
    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-batch"}))
    # Claude takes a few seconds to draft, so a worker can be caught (and killed) in the middle of a lead.
    claude = AnthropicStub().start()
    reply = {
        "subject": "Your website",
        "body": "Hi there,\n\nHappy to help.\n\nMaya",
        "confidence": 0.9,
        "reasoning": "A clear request",
        "facts_used": [],
    }
    claude.queue(StubResponse(200, tool_use_message(reply), delay=DRAFT_SECONDS))
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "WORKER_PROCESSES": "1",  # sends
        "LLM_WORKER_PROCESSES": "2",  # classifying and drafting
        "WORKER_STALL_SECONDS": str(STALL_SECONDS),
        "WORKER_WATCHDOG_SECONDS": "1",
        "WORKER_STOP_SECONDS": "3",
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{sendgrid.base_url}/v3/",
        "ANTHROPIC_API_KEY": "sk-ant-test-key",
        "ANTHROPIC_BASE_URL": claude.base_url,
        "HF_HUB_OFFLINE": "1",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        workers = 3  # one on the default queue, two on the LLM queue (one cluster each)
        wait_for(lambda: ready_workers(worker.pid) == workers, timeout=60, what="every worker process")

        # A worker killed in the middle of a lead (while Claude drafts): its task is handed out again at once, not
        # after the broker's retry (JOB_TIMEOUT_SECONDS + 60 s), and the lead is drafted once.
        caught = submit_lead(LEADS[0], name="Lead caught")
        wait_for(lambda: any(w.processing for w in cluster_workers(worker.pid)), timeout=60, what="a busy worker")
        time.sleep(DRAFT_SECONDS / 2)
        busy = [w for w in cluster_workers(worker.pid) if "process_lead" in w.title]
        assert busy, cluster_workers(worker.pid)
        os.kill(busy[0].pid, signal.SIGKILL)
        killed_mid_task = time.monotonic()
        wait_for(lambda: all_answered([caught]), timeout=60, what="the lead caught mid-task", tick=approve_new_drafts)
        mid_task_recovery = time.monotonic() - killed_mid_task
        assert Message.objects.filter(lead=caught).count() == 1
        print(f"a lead whose worker was killed mid-task was answered {mid_task_recovery:.1f} s later")

        # Work flows; then, between tasks, one worker is killed: if it was the one next in line (waiting on the
        # cluster's task queue, holding its lock), the cluster freezes.
        first = [submit_lead(text, name=f"Lead {i}") for i, text in enumerate(LEADS[:2])]
        wait_for(lambda: all_answered(first), timeout=120, what="the first leads answered", tick=approve_new_drafts)
        wait_for(lambda: idle_queue(), timeout=30, what="an idle queue")
        os.kill(cluster_workers(worker.pid)[0].pid, signal.SIGKILL)
        first += [submit_lead(LEADS[2], name="Lead 2")]
        wait_for(lambda: all_answered(first), timeout=120, what="the next lead answered", tick=approve_new_drafts)

        # Then every worker at once while they wait for work: the cluster's queue is left locked for good.
        wait_for(lambda: idle_queue(), timeout=30, what="an idle queue")
        killed = cluster_workers(worker.pid)
        assert killed, "no worker to kill"
        killed_at = time.monotonic()
        for process in killed:
            os.kill(process.pid, signal.SIGKILL)
        second = [submit_lead(text, name=f"Lead {i}") for i, text in enumerate(LEADS[3:], start=3)]
        statuses: list[str] = []

        def watch() -> None:
            statuses.append(client.get("/healthz").json()["status"])
            approve_new_drafts()

        wait_for(
            lambda: all_answered(second),
            timeout=150,
            what="the leads after the freeze answered",
            tick=watch,
        )
        recovery = time.monotonic() - killed_at
        print(f"recovered {recovery:.1f} s after every worker was killed")

        assert "stalled" in statuses, statuses  # /healthz told the truth while nothing moved
        assert recovery < 120, f"recovery took {recovery:.0f} s"
        assert worker_restarts() >= 1
        assert client.get("/healthz").json()["status"] == "ok"
        # Every approved reply went out exactly once, and every lead got one.
        deliveries = Counter(r.body["custom_args"]["bizpilot_message_id"] for r in sendgrid.requests)
        messages = Message.objects.filter(lead__in=[caught, *first, *second])
        assert sorted(deliveries) == sorted(str(m.pk) for m in messages)
        assert set(deliveries.values()) == {1}
    finally:
        stop_started = time.monotonic()
        worker.send_signal(signal.SIGTERM)  # what `make run` does on Ctrl-C
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        stop_seconds = time.monotonic() - stop_started
        sendgrid.stop()
        claude.stop()
        log.close()
        print(list(Lead.objects.values_list("pk", "state", "last_error")))
        print(list(Message.objects.values_list("pk", "status", "last_error")))
        print(queue_state())
        lines = (tmp_path / "worker.log").read_text(errors="replace").splitlines()
        print("\n".join(line for line in lines if "bizpilot" in line or "reincarnated" in line or "rror" in line))
    assert stop_seconds < 20, f"stopping took {stop_seconds:.0f} s"
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if "qcluster" in " ".join(p.info["cmdline"] or [])]
    assert not [p for p in leftovers if p.pid != os.getpid()], "cluster processes outlived the worker"
