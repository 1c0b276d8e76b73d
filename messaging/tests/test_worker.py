"""A real django-q2 cluster (`manage.py qcluster`) processes a lead through the ORM broker in the same database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_q.conf import Conf

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message


def test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    host = quote(db["HOST"] or db.get("OPTIONS", {}).get("host", ""), safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_classifies_and_drafts_a_lead(demo_knowledge, monkeypatch, client):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue through the ORM broker instead of running inline
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "WORKER_PROCESSES": "1",
        "HF_HUB_OFFLINE": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        lead = submit_lead(
            "Need an online shop before Mother's Day, can pay now", name="Kim", email="kim@kimsflorist.example"
        )
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and worker.poll() is None:
            if Lead.objects.get(pk=lead.pk).state == "drafted":
                break
            time.sleep(0.5)
        lead.refresh_from_db()
        assert lead.state == "drafted", f"worker exit={worker.poll()} lead={lead.state} error={lead.last_error}"
        assert lead.intent == "hot"
        assert Message.objects.get(lead=lead).status == "pending_review"

        health = client.get("/healthz").json()
        assert health["checks"]["queue"]["ok"] is True
        assert health["checks"]["queue"]["workers_alive"] >= 1
        assert health["status"] == "ok"
    finally:
        worker.send_signal(signal.SIGTERM)  # the cluster's main process stops its own workers
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        print(output.decode(errors="replace")[-3000:])  # shown by pytest only when the test fails
