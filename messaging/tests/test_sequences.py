"""Follow-up sequences: every step at its time when the lead never answers (time driven by the test, not slept),
nothing more once they reply, no email after an SMS STOP, one message when two schedulers fire together. Real
database, real embedding model, the default sequences seeded by the migrations, fallback drafting (no LLM)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.inbound import inbound_text_receive
from messaging.models import LeadSequence, LeadSequenceStep, Message, Sequence, SequenceStep
from messaging.pipeline import lead_process
from messaging.review import message_approve
from messaging.sending import message_send
from messaging.sequence_defaults import seed_default_sequences
from messaging.sequences import conversation_text, sequence_step_run, sequence_steps_run_due, sequence_stop

HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


def send(message: Message) -> Message:
    """Approve (as an operator) and send a draft, as the review screen and the worker would."""
    if message.status == Message.Status.PENDING_REVIEW:
        message_approve(message_id=message.pk, actor="user:reviewer")
    return message_send(message_id=message.pk)


@pytest.fixture
def contacted_lead(demo_knowledge) -> Lead:
    """A hot lead with an email address and a phone number it agreed to be texted on, whose first reply was sent."""
    seed_default_sequences(Sequence, SequenceStep)  # (a transactional test's flush removes the migration's rows)
    lead = submit_lead(
        HOT, name="Sam Lee", email="sam@salon.example", phone="+447700900123", metadata={"text_consent": True}
    )
    lead_process(lead_id=lead.pk)  # (in transactional tests the on-commit job has already done it)
    first = Message.objects.get(lead=lead)
    assert send(first).status == Message.Status.SENT
    lead.refresh_from_db()
    assert lead.intent == "hot" and lead.state == Lead.State.CONTACTED
    return lead


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
