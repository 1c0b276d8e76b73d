"""The target, end to end with the real job queue: a hot lead posted through the API reaches the person on duty by
email and text, and the team's Slack channel, within 60 seconds, each exactly once; nobody opens it, and the next
person is told. `manage.py run_worker` runs both clusters against the test database; SendGrid, Twilio and Slack are
local stubs speaking their wire formats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django_q.conf import Conf
from django_q.models import Schedule

from alerts.models import Alert, AlertRecipient, TeamWebhook
from alerts.tests.conftest import HOT, LEAD, sent_emails
from bizpilot.tests.processes import test_database_url, wait_for
from bizpilot.worker import ready_workers
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from leads.models import Lead
from messaging.tests.twilio_support import SID, TOKEN

ESCALATION_MINUTES = 0.25


@pytest.mark.django_db(transaction=True)
def test_a_hot_lead_posted_through_the_api_alerts_within_a_minute_then_escalates(demo_knowledge, monkeypatch, api):
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue through the ORM broker, for the workers
    sendgrid, twilio, slack = AnthropicStub().start(), AnthropicStub().start(), AnthropicStub().start()
    sendgrid.queue(StubResponse(202, None, headers={"X-Message-Id": "sg-1"}))
    twilio.queue(StubResponse(201, {"sid": "SMalert1", "status": "queued", "account_sid": SID}))
    slack.queue(StubResponse(200, None))
    AlertRecipient.objects.create(
        name="Ann", email="ann@northwind.example", phone="+447700900001", channels=["email", "sms"]
    )
    AlertRecipient.objects.create(name="Ben", email="ben@northwind.example", on_duty=False, escalation_order=1)
    TeamWebhook.objects.create(name="#sales", kind="slack", url=f"{slack.base_url}/services/T1/B1/x")
    Schedule.objects.create(name="sweep_alerts", func="alerts.tasks.sweep_alerts", schedule_type="I", minutes=1)
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "test",
        "JOBS_SYNC": "0",
        "WORKER_PROCESSES": "1",
        "LLM_WORKER_PROCESSES": "1",
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_URL": f"{sendgrid.base_url}/v3/",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+441134960000",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "ALERT_ESCALATION_MINUTES": str(ESCALATION_MINUTES),
        "PUBLIC_BASE_URL": "https://bizpilot.example.com",
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
        wait_for(lambda: ready_workers(worker.pid) == 2, timeout=90, what="one worker per queue", processes=[worker])
        posted_at = time.monotonic()
        response = api.post("/api/leads/", {"message": HOT, **LEAD}, format="json")
        assert response.status_code == 202
        lead_id = response.json()["id"]

        def texts() -> list[dict]:
            return [r.body for r in twilio.requests if "Body" in r.body]

        wait_for(
            lambda: sent_emails(sendgrid) and texts() and slack.requests,
            timeout=60,
            what="the email, the text and the Slack message",
            processes=[worker],
            every=0.2,
        )
        took = time.monotonic() - posted_at
        print(f"alerts out {took:.1f} s after the lead was posted")
        assert Lead.objects.get(pk=lead_id).intent == "hot"
        assert [e["to"] for e in sent_emails(sendgrid)] == [["ann@northwind.example"]]
        assert [t["To"] for t in texts()] == ["+447700900001"] and len(slack.requests) == 1

        # Nobody opens it: the next person is told once the wait is over.
        wait_for(
            lambda: len(sent_emails(sendgrid)) >= 2,
            timeout=ESCALATION_MINUTES * 60 + 60,
            what="the escalation to the next person",
            processes=[worker],
        )
        assert sent_emails(sendgrid)[1]["to"] == ["ben@northwind.example"]
        escalated = Alert.objects.get(lead_id=lead_id, level=Alert.Level.NEXT, channel="email")
        assert escalated.recipient.name == "Ben"
        # Each exactly once, however many times the sweep has run meanwhile.
        assert (len(sent_emails(sendgrid)), len(texts()), len(slack.requests)) == (2, 1, 1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            output, _ = worker.communicate()
        for stub in (sendgrid, twilio, slack):
            stub.stop()
        print(output.decode(errors="replace")[-3000:])
