"""Follow-up sequences: every step at its time when the lead never answers (time driven by the test, not slept),
nothing more once they reply, no email after an SMS STOP, one message when two schedulers fire together. Real
database, real embedding model, the default sequences seeded by the migrations, fallback drafting (no LLM)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from bizpilot.business import business_save
from intelligence.tests.anthropic_stub import StubResponse
from leads.models import InboundMessage, Lead
from leads.tests.factories import submit_lead
from messaging.inbound import inbound_text_receive
from messaging.models import LeadSequence, LeadSequenceStep, Message, Sequence, SequenceStep
from messaging.pipeline import lead_process
from messaging.sequence_defaults import seed_default_sequences
from messaging.sequences import conversation_text, sequence_step_run, sequence_steps_run_due, sequence_stop
from messaging.tests.factories import send
from messaging.tests.test_admin_review import form_data
from messaging.tests.twilio_support import SID, inbound_params, post_signed

HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


def run_until(lead: Lead, position: int) -> Message:
    """Drive time to step `position`'s due time: nothing is drafted a minute early, the step is drafted at its time
    (through the scheduled sweep and its job) and then sent."""
    step = LeadSequenceStep.objects.get(lead_sequence__lead=lead, position=position)
    assert sequence_steps_run_due(now=step.due_at - timedelta(minutes=1)) == 0
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.SCHEDULED and step.message is None
    assert sequence_steps_run_due(now=step.due_at) == 1
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.DRAFTED and step.message is not None
    return step.message


def test_a_lead_that_never_replies_gets_every_step_at_its_time(contacted_lead):
    run = LeadSequence.objects.get(lead=contacted_lead)
    first_sent = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False).sent_at
    assert run.sequence == Sequence.objects.get(intent="hot", active=True) and run.started_at == first_sent
    steps = list(run.steps.order_by("position"))
    assert [s.due_at - first_sent for s in steps] == [timedelta(days=1), timedelta(days=3), timedelta(days=7)]
    assert [s.channel for s in steps] == ["email", "sms", "email"]

    for step in steps:
        message = run_until(contacted_lead, step.position)
        assert message.channel == step.channel and message.in_reply_to is None
        assert message.status == Message.Status.PENDING_REVIEW  # the same review as a first reply
        assert send(message).status == Message.Status.SENT
    run.refresh_from_db()
    assert run.status == LeadSequence.Status.COMPLETED
    assert Message.objects.filter(lead=contacted_lead, status=Message.Status.SENT).count() == 4
    assert len(mail.outbox) == 3  # the first reply and two follow-up emails; the text went by SMS
    assert "Following up" in mail.outbox[1].subject
    # The conversation so far is the follow-up's context: what the lead wrote and what we sent.
    context = conversation_text(lead_id=contacted_lead.pk)
    assert "The lead wrote (api): We need a new website" in context and context.count("We sent (email") == 3


def test_a_lead_that_replies_after_step_one_receives_nothing_more(contacted_lead):
    send(run_until(contacted_lead, 1))
    second = run_until(contacted_lead, 2)  # drafted, waiting for review, when the lead answers
    submit_lead("Thanks, yes please call me tomorrow", email="sam@salon.example", name="Sam Lee")
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert (run.status, run.stop_reason) == (LeadSequence.Status.STOPPED, "the lead replied")
    second.refresh_from_db()
    assert second.status == Message.Status.CANCELLED and "the lead replied" in second.last_error
    last = LeadSequenceStep.objects.get(lead_sequence=run, position=3)
    assert (last.status, last.reason) == (LeadSequenceStep.Status.CANCELLED, "the lead replied")
    assert sequence_steps_run_due(now=last.due_at + timedelta(days=30)) == 0
    assert send(second).status == Message.Status.CANCELLED  # a cancelled follow-up cannot be sent
    assert Message.objects.filter(lead=contacted_lead, status=Message.Status.SENT).count() == 2


def test_an_sms_stop_ends_the_emails_too(contacted_lead):
    outcome = inbound_text_receive(
        channel="sms", sender="+447700900123", body="STOP", provider_message_id="SM1", name="", raw_payload={}
    )
    assert outcome == "opted_out"
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert run.status == LeadSequence.Status.STOPPED and run.stop_reason == "the lead unsubscribed"
    later = LeadSequenceStep.objects.get(lead_sequence=run, position=3).due_at
    assert sequence_steps_run_due(now=later) == 0
    assert not Message.objects.filter(lead=contacted_lead, in_reply_to__isnull=True).exists()
    assert len(mail.outbox) == 1


def test_a_step_whose_lead_was_suppressed_behind_its_back_is_not_drafted(contacted_lead):
    """Defence in depth: even without the stop signal, a due step checks every address of the lead."""
    from messaging.models import Suppression

    Suppression.objects.create(address="sam@salon.example", reason=Suppression.Reason.MANUAL, source="test")
    step = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=1)
    assert sequence_step_run(step_id=step.pk, now=step.due_at) is None
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert run.status == LeadSequence.Status.STOPPED and "suppression list" in run.stop_reason


def test_an_operator_stops_a_sequence(contacted_lead):
    sequence_stop(lead_id=contacted_lead.pk, reason="talking by phone now", actor="user:reviewer")
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert (run.status, run.stop_reason) == (LeadSequence.Status.STOPPED, "talking by phone now")
    assert set(run.steps.values_list("status", flat=True)) == {LeadSequenceStep.Status.CANCELLED}


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_firing_together_draft_one_message(contacted_lead):
    step = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=1)
    barrier = threading.Barrier(2)
    results = []

    def scheduler():
        barrier.wait()
        try:
            results.append(sequence_step_run(step_id=step.pk, now=step.due_at))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(1 for r in results if r is not None) == 1
    assert Message.objects.filter(lead=contacted_lead, in_reply_to__isnull=True).count() == 1
    # The sweep firing again later finds nothing to do.
    assert sequence_steps_run_due(now=step.due_at + timedelta(hours=1)) == 0


def test_the_api_shows_the_sequence_and_stops_it(contacted_lead, api):
    send(run_until(contacted_lead, 1))
    body = api.get(f"/api/leads/{contacted_lead.pk}/").json()
    sequence = body["sequence"]
    assert (sequence["name"], sequence["status"], sequence["stop_reason"]) == ("Hot lead follow-up", "active", "")
    assert [(s["position"], s["channel"], s["status"]) for s in sequence["steps"]] == [
        (1, "email", "sent"),
        (2, "sms", "scheduled"),
        (3, "email", "scheduled"),
    ]
    assert sequence["steps"][0]["message_id"] is not None and sequence["steps"][1]["message_id"] is None

    refused = api.post(f"/api/leads/{contacted_lead.pk}/sequence/stop/", {"why": "x"}, format="json")
    assert refused.status_code == 400 and "why" in refused.json()["error"]["fields"]
    stopped = api.post(f"/api/leads/{contacted_lead.pk}/sequence/stop/", {"reason": "signed by phone"}, format="json")
    assert stopped.status_code == 200
    assert (stopped.json()["status"], stopped.json()["stop_reason"]) == ("stopped", "signed by phone")
    assert [s["status"] for s in stopped.json()["steps"]] == ["sent", "cancelled", "cancelled"]

    fresh = submit_lead("How much is a logo?", email="new@lead.example")
    assert api.get(f"/api/leads/{fresh.pk}/").json()["sequence"] is None
    assert api.post(f"/api/leads/{fresh.pk}/sequence/stop/", {}, format="json").status_code == 404


def test_the_review_screen_shows_the_timeline_and_stops_the_sequence(contacted_lead, admin_client):
    draft = run_until(contacted_lead, 1)
    page = admin_client.get(f"/admin/messaging/message/{draft.pk}/change/").content.decode()
    timeline = page[page.index('id="bp-timeline"') : page.index("</ol>", page.index('id="bp-timeline"'))]
    assert "The lead wrote via api" in timeline and "Reply sent by email" in timeline
    assert "Follow-up 2 due by sms" in timeline and "Follow-up 3 due by email" in timeline
    assert "Hot lead follow-up: <strong>active</strong>" in page and 'name="_stop_sequence"' in page

    admin_client.post(f"/admin/messaging/message/{draft.pk}/change/", form_data(draft, _stop_sequence="1"))
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert (run.status, run.stop_reason) == (LeadSequence.Status.STOPPED, "stopped by an operator")
    draft.refresh_from_db()
    assert draft.status == Message.Status.CANCELLED


def test_sequences_are_defined_in_the_admin_and_stopped_from_the_leads_list(contacted_lead, admin_client):
    page = admin_client.get("/admin/messaging/sequence/").content.decode()
    assert "Hot lead follow-up" in page and "Warm lead follow-up" in page
    sequence = Sequence.objects.get(intent="hot", active=True)
    form = admin_client.get(f"/admin/messaging/sequence/{sequence.pk}/change/").content.decode()
    assert "whatsapp_content_sid" in form and "fallback_body" in form
    admin_client.post("/admin/leads/lead/", {"action": "stop_lead_sequences", "_selected_action": [contacted_lead.pk]})
    assert LeadSequence.objects.get(lead=contacted_lead).status == LeadSequence.Status.STOPPED
    runs = admin_client.get("/admin/messaging/leadsequence/").content.decode()
    assert "stopped by an operator" in runs


def test_a_whatsapp_follow_up_outside_the_24_hour_window_goes_as_the_approved_template(client, twilio, demo_knowledge):
    seed_default_sequences(Sequence, SequenceStep)
    post_signed(client, "/webhooks/twilio/messages/", inbound_params(body=HOT, sender="whatsapp:+447700900123"))
    lead = Lead.objects.get()
    first = lead_process(lead_id=lead.pk)
    assert first is not None and first.channel == "whatsapp"
    lead.refresh_from_db()
    step = SequenceStep.objects.get(sequence__intent=lead.intent, sequence__active=True, position=1)
    step.whatsapp_content_sid = "HX0123456789abcdef0123456789abcdef"
    step.whatsapp_content_variables = {"1": "first_name", "2": "business_name"}
    step.save()
    reply = {"sid": "SMwa1", "status": "queued", "account_sid": SID}
    twilio.queue(StubResponse(201, reply), StubResponse(201, {**reply, "sid": "SMwa2"}))
    assert send(first).status == Message.Status.SENT  # inside the window: the drafted text
    assert "Body" in twilio.requests[-1].body and "ContentSid" not in twilio.requests[-1].body

    InboundMessage.objects.update(received_at=timezone.now() - timedelta(hours=25))  # the window closes
    follow_up = run_until(lead, 1)
    assert (follow_up.channel, follow_up.content_sid) == ("whatsapp", step.whatsapp_content_sid)
    assert send(follow_up).status == Message.Status.SENT
    sent = twilio.requests[-1].body
    assert sent["ContentSid"] == step.whatsapp_content_sid and "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {"1": "there", "2": settings.BUSINESS_NAME}


def test_analytics_show_reply_and_conversion_rate_by_step(
    contacted_lead, api, admin_client, django_capture_on_commit_callbacks
):
    from leads.lifecycle import lead_mark_outcome

    send(run_until(contacted_lead, 1))
    with django_capture_on_commit_callbacks(execute=True):  # what follows the commit: the reply is attributed
        submit_lead("Yes, let's talk", email="sam@salon.example", name="Sam Lee")  # a reply to follow-up 1
    other = submit_lead(HOT, name="Kim Ray", email="kim@ray.example")
    lead_process(lead_id=other.pk)
    send(Message.objects.get(lead=other))  # a first reply that converts without a follow-up
    lead_mark_outcome(lead_id=other.pk, outcome="converted", actor="user:reviewer")

    by_step = api.get("/api/dashboard/metrics/").json()["by_step"]
    rows = {(r["sequence"], r["step"]): r for r in by_step}
    assert rows["first reply", 0] == {
        "sequence": "first reply",
        "step": 0,
        "sent": 2,
        "replied": 0,
        "converted": 1,
        "reply_rate": 0.0,
        "conversion_rate": 0.5,
    }
    assert (rows["Hot lead follow-up", 1]["sent"], rows["Hot lead follow-up", 1]["reply_rate"]) == (1, 1.0)
    page = admin_client.get("/analytics/messaging/").content.decode()
    table = page[page.index('id="bp-by-step"') :]
    assert "<td>Hot lead follow-up</td><td>1</td><td>1</td><td>1</td><td>100%</td>" in table


def test_bot_opens_and_scanner_clicks_neither_advance_nor_stop_anything(contacted_lead):
    from messaging.events import delivery_event_record

    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    for n, kind in enumerate(["opened", "clicked"]):
        delivery_event_record(
            message=first,
            event_type=kind,
            provider="sendgrid",
            provider_event_id=f"bot-{n}",
            occurred_at=None,
            payload={},
            is_machine=True,
            machine_reason="machine open",
        )
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert run.status == LeadSequence.Status.ACTIVE
    step = LeadSequenceStep.objects.get(lead_sequence=run, position=1)
    assert sequence_steps_run_due(now=step.due_at - timedelta(hours=1)) == 0  # nothing moved forward
    assert "not opened yet" in conversation_text(lead_id=contacted_lead.pk)  # a machine's open is not a person's

    delivery_event_record(
        message=first,
        event_type="opened",
        provider="sendgrid",
        provider_event_id="person-1",
        occurred_at=None,
        payload={},
    )
    assert "We sent (email, opened)" in conversation_text(lead_id=contacted_lead.pk)
    assert LeadSequence.objects.get(lead=contacted_lead).status == LeadSequence.Status.ACTIVE


@pytest.mark.parametrize(
    ("event", "reason"),
    [("bounced", "a message to the lead bounced"), ("complained", "the lead marked a message as spam")],
)
def test_a_bounce_or_spam_complaint_stops_the_sequence(contacted_lead, event, reason):
    from messaging.events import delivery_event_record

    draft = run_until(contacted_lead, 1)
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    delivery_event_record(
        message=first, event_type=event, provider="sendgrid", provider_event_id="ev-1", occurred_at=None, payload={}
    )
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert (run.status, run.stop_reason) == (LeadSequence.Status.STOPPED, reason)
    draft.refresh_from_db()
    assert draft.status == Message.Status.CANCELLED


def test_a_conversion_stops_the_sequence(contacted_lead):
    from leads.lifecycle import lead_mark_outcome

    lead_mark_outcome(lead_id=contacted_lead.pk, outcome="converted", actor="user:reviewer")
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert (run.status, run.stop_reason) == (LeadSequence.Status.STOPPED, "the lead converted")
    assert not run.steps.filter(status=LeadSequenceStep.Status.SCHEDULED).exists()


def test_a_step_whose_worker_died_mid_draft_is_drafted_once_by_a_later_sweep(contacted_lead):
    step = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=1)
    # A worker claimed the step and died before it stored a draft.
    LeadSequenceStep.objects.filter(pk=step.pk).update(status=LeadSequenceStep.Status.DRAFTING, claimed_at=step.due_at)
    assert sequence_steps_run_due(now=step.due_at + timedelta(minutes=5)) == 0  # it may still be working
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.DRAFTING and step.message is None
    assert sequence_steps_run_due(now=step.due_at + timedelta(minutes=11)) == 1  # its claim expired: drafted
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.DRAFTED and step.message is not None
    # The job running again (a redelivered task) changes nothing.
    assert sequence_step_run(step_id=step.pk, now=step.due_at + timedelta(minutes=12)) is None
    assert Message.objects.filter(lead=contacted_lead, in_reply_to__isnull=True).count() == 1


def test_a_text_due_in_quiet_hours_waits_for_their_end(contacted_lead):
    from zoneinfo import ZoneInfo

    from messaging.models import AutoSendPolicy

    send(run_until(contacted_lead, 1))
    step = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=2)
    assert step.channel == "sms"
    business_save(values={"time_zone": "America/Los_Angeles"}, actor="user:admin")  # the business's clock, not UTC
    zone = ZoneInfo("America/Los_Angeles")
    local = step.due_at.astimezone(zone)
    start, end = (local - timedelta(hours=1)).time(), (local + timedelta(hours=2)).time()
    AutoSendPolicy.objects.create(quiet_hours_start=start, quiet_hours_end=end)
    assert sequence_steps_run_due(now=step.due_at) == 1
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.SCHEDULED and step.message is None
    resumes = step.due_at.astimezone(zone)
    assert (resumes.hour, resumes.minute) == (end.hour, end.minute) and step.due_at > local
    assert sequence_steps_run_due(now=step.due_at) == 1
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.DRAFTED and step.message.channel == "sms"


def test_a_step_waits_for_the_next_day_once_the_daily_cap_is_reached(contacted_lead):
    from zoneinfo import ZoneInfo

    from messaging.models import AutoSendPolicy

    business_save(values={"time_zone": "Asia/Tokyo"}, actor="user:admin")  # its midnight is 15:00 UTC
    zone = ZoneInfo("Asia/Tokyo")
    AutoSendPolicy.objects.create(enabled=True, daily_cap=0)
    step = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=1)
    was_due = step.due_at.astimezone(zone)
    assert sequence_steps_run_due(now=step.due_at) == 1
    step.refresh_from_db()
    assert step.status == LeadSequenceStep.Status.SCHEDULED and step.message is None
    waits_until = step.due_at.astimezone(zone)
    assert (waits_until.date(), waits_until.hour, waits_until.minute) == (was_due.date() + timedelta(days=1), 0, 0)


def test_with_an_llm_a_follow_up_is_written_from_the_conversation_with_pii_redacted(contacted_lead, anthropic_stub):
    from intelligence.tests.anthropic_stub import tool_use_message

    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {"subject": "Still keen on the salon site?", "body": "Hi Sam, just checking in about the site."}
            ),
        )
    )
    message = run_until(contacted_lead, 1)
    assert message.generated_by == "llm" and message.subject == "Still keen on the salon site?"
    prompt = json.dumps(anthropic_stub.requests[-1].body)
    assert "<conversation>" in prompt and "The lead wrote (api): We need a new website for our salon" in prompt
    assert "We sent (email, not opened yet)" in prompt
    assert "sam@salon.example" not in prompt and "+447700900123" not in prompt
