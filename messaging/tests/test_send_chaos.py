"""Chaos: 1,000 approved replies in flight through a real `manage.py run_worker` (two workers, the ORM broker,
anymail's SendGrid backend to a local stub that counts every delivery), the workers killed with SIGKILL in the
middle of sending, again and again. Afterwards no message went out twice and none is lost: each was delivered
once, or (its worker killed between claiming it and the provider's answer) is stuck `sending`, where the
reconciler marks it for a person; nothing is ever sent again on a guess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from bizpilot import jobs
from bizpilot.tests.processes import test_database_url, wait_for
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from leads.models import Lead
from messaging.models import Message, body_hash
from messaging.reconcile import messages_reconcile_sending

pytestmark = pytest.mark.timeout(900)
SENDS = 1000
KILLS = 3


def approved_replies(n: int) -> list[int]:
    """n leads, each with an approved reply waiting to be sent (made directly: the pipeline is not under test)."""
    leads = Lead.objects.bulk_create(
        Lead(name=f"Chaos {i}", email=f"chaos{i}@shop.example", state=Lead.State.DRAFTED) for i in range(n)
    )
    body = "Hi,\n\nThanks for writing: happy to help.\n\nMaya"
    messages = Message.objects.bulk_create(
        Message(
            lead=lead,
            channel="email",
            to_address=lead.email,
            original_subject="Your website",
            original_body=body,
            subject="Your website",
            body=body,
            generated_by="fallback",
            status=Message.Status.APPROVED,
            approved_hash=body_hash("Your website", body),
            approved_by="user:operator",
            approved_at=timezone.now(),
        )
        for lead in leads
    )
    return [m.pk for m in messages]


@pytest.mark.django_db(transaction=True)
def test_killing_workers_during_a_thousand_sends_loses_none_and_sends_none_twice(monkeypatch, tmp_path: Path):
    from django_q.conf import Conf

    from bizpilot.worker import cluster_workers, ready_workers

    monkeypatch.setattr(Conf, "SYNC", False)
    sendgrid = AnthropicStub().start()
    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-chaos"}, delay=0.01))
    ids = approved_replies(SENDS)
    for message_id in ids:
        jobs.enqueue("messaging.tasks.send_message", message_id, task_name=f"send_message-{message_id}")
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "WORKER_PROCESSES": "2",
        "WORKER_STALL_SECONDS": "6",
        "WORKER_WATCHDOG_SECONDS": "1",
        "WORKER_STOP_SECONDS": "3",
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{sendgrid.base_url}/v3/",
        "HF_HUB_OFFLINE": "1",
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--queue", settings.JOB_QUEUE],  # sends: the default queue
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def settled() -> bool:
        return not Message.objects.filter(pk__in=ids, status=Message.Status.APPROVED).exists()

    kills = 0
    try:
        wait_for(lambda: ready_workers(worker.pid) == 2, timeout=60, what="two worker processes")
        while kills < KILLS and not settled():
            target = 50 * (kills + 1)
            # A kill can freeze the cluster (django-q2's queue lock): the watchdog restarts it within about 30 s.
            wait_for(lambda: len(sendgrid.requests) > target or settled(), timeout=180, what="sends")  # noqa: B023
            # Kill the workers that are sending right now (mid-task, as the out-of-memory killer would). A worker
            # killed while it waits for work can freeze the cluster: test_worker_recovery covers that case.
            busy = []
            for _ in range(200):
                busy = [w for w in cluster_workers(worker.pid) if w.processing]
                if busy or settled():
                    break
                time.sleep(0.01)
            for process in busy:
                os.kill(process.pid, signal.SIGKILL)
            kills += 1 if busy else 0
            wait_for(lambda: ready_workers(worker.pid) == 2, timeout=180, what="the workers back")
        wait_for(settled, timeout=400, what="every reply sent or claimed")
        wait_for(
            lambda: (
                not Message.objects.filter(
                    pk__in=ids,
                    status=Message.Status.SENDING,
                    sending_started_at__gt=timezone.now() - timedelta(seconds=5),
                ).exists()
            ),
            timeout=30,
            what="the last sends to finish",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        sendgrid.stop()
        log.close()
        print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])  # shown by pytest when the test fails
    assert kills >= 2, "the workers were never caught sending"

    deliveries = Counter(r.body["custom_args"]["bizpilot_message_id"] for r in sendgrid.requests)
    assert max(deliveries.values()) == 1, [m for m, n in deliveries.items() if n > 1][:5]  # none sent twice
    statuses = dict(Message.objects.filter(pk__in=ids).values_list("pk", "status"))
    sent = {pk for pk, status in statuses.items() if status == Message.Status.SENT}
    stuck = {pk for pk, status in statuses.items() if status == Message.Status.SENDING}
    assert sent | stuck == set(ids)  # nothing lost: every reply is sent, or waiting for its outcome to be settled
    assert {str(pk) for pk in sent} <= set(deliveries)  # every reply recorded as sent really reached the provider
    print(f"{SENDS} sends, {kills} kills: {len(sent)} sent, {len(stuck)} left sending by a killed worker")

    # The reconciler settles the stuck ones without sending anything again: email cannot be looked up.
    outcomes = messages_reconcile_sending(now=timezone.now() + timedelta(hours=1))
    assert outcomes.get("unknown", 0) + outcomes.get("sent", 0) == len(stuck)
    assert len(sendgrid.requests) == sum(deliveries.values())
