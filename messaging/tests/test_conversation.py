"""Conversations: a lead's answer is a turn of its own. It comes in through the real inbound paths (anymail's
SendGrid Inbound Parse webhook, Twilio's signed webhook), is read in its thread, changes the lead's intent or stage
with the reason audited, and gets one draft answer through the usual review and auto-send policy, or a stated reason
why not. Auto-replies are no replies: they pause the follow-ups. Real database, real embedding model, fallback
drafting unless the Anthropic stub is on."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bizpilot.models import AuditEvent
from intelligence.models import ReplyClassification
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.models import InboundMessage, Lead
from messaging.conversation import reply_turn_process
from messaging.models import AutoSendPolicy, LeadSequence, LeadSequenceStep, Message, Suppression
from messaging.tests.factories import send

AUTH = "sendgrid:inbound-secret"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": AUTH}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def email_in(client, text, *, sender="Sam Lee <sam@salon.example>", subject="Re: Your website", headers="", **kw):
    """Post an email to the inbound webhook as SendGrid Inbound Parse does, with extra raw header lines."""
    message_id = kw.get("message_id", f"<{abs(hash((text, sender, headers)))}@mail.example>")
    raw = (
        f"From: {sender}\nTo: {kw.get('to', 'hello@northwind.example')}\nSubject: {subject}\n"
        f"Message-ID: {message_id}\nDate: Fri, 4 Dec 2026 10:00:00 +0000\n{headers}"
    )
    fields = {
        "headers": raw,
        "from": sender,
        "to": kw.get("to", "hello@northwind.example"),
        "subject": subject,
        "text": text,
        "envelope": json.dumps({"to": [kw.get("to", "hello@northwind.example")], "from": "x@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}),
    }
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(AUTH.encode()).decode()}
    response = client.post("/anymail/sendgrid/inbound/", fields, **auth)
    assert response.status_code == 200
    return InboundMessage.objects.get(provider_message_id=message_id)


def answer_to(inbound: InboundMessage) -> Message:
    return Message.objects.get(in_reply_to=inbound)


GROOMER = (
    "Thanks Maya! Thursday at 2pm or Friday 10am both work for me. Should I send over our logo and some photos "
    "before the call? Also is 4k realistic for 6 pages plus online booking?"
)


def test_a_reply_is_read_in_its_thread_and_gets_one_draft_answer(client, contacted_lead, capture):
    with capture(execute=True):
        inbound = email_in(client, GROOMER)
    contacted_lead.refresh_from_db()
    assert contacted_lead.state == Lead.State.REPLIED
    reading = ReplyClassification.objects.get(inbound=inbound)
    assert reading.kind == "meeting" and reading.outcome == f"answer drafted: message #{answer_to(inbound).pk}"
    answer = answer_to(inbound)
    assert answer.status == Message.Status.PENDING_REVIEW and answer.reply_kind == "meeting"
    assert answer.channel == "email" and answer.to_address == "sam@salon.example"
    assert answer.subject == "Re: Your website" and answer.body.startswith("Hi Sam,")
    # The fallback answers what it can and hands the meeting to a person, saying so.
    assert any("a person confirms the time" in c for c in answer.checks_failed)
    assert answer.answers == [inbound.pk]
    # It answers the lead's turn: once, however often the job runs.
    assert reply_turn_process(lead_id=contacted_lead.pk).pk == answer.pk
    assert Message.objects.filter(lead=contacted_lead, reply_kind__gt="").count() == 1


def test_a_warm_lead_that_says_lets_do_it_becomes_hot_with_the_reason(client, contacted_lead, capture):
    Lead.objects.filter(pk=contacted_lead.pk).update(intent="warm")
    with capture(execute=True):
        email_in(client, "Perfect, let's do it. Please send over the contract and the first invoice.")
    contacted_lead.refresh_from_db()
    assert contacted_lead.intent == "hot"
    event = AuditEvent.objects.get(action="lead.intent_changed")
    assert event.before == {"intent": "warm"} and "the lead said yes" in event.after["reason"]
    reading = ReplyClassification.objects.get(lead=contacted_lead)
    assert (reading.kind, reading.intent_before, reading.intent_after) == ("yes", "warm", "hot")
    answer = Message.objects.get(lead=contacted_lead, reply_kind="yes")
    assert any("a person sends the contract" in c for c in answer.checks_failed)


def test_we_went_with_someone_else_marks_the_lead_lost(client, contacted_lead, capture):
    with capture(execute=True):
        email_in(client, "Thanks for getting back to me, but we went with someone else in the end.")
    contacted_lead.refresh_from_db()
    assert contacted_lead.state == Lead.State.LOST
    assert "the lead said no" in AuditEvent.objects.get(action="lead.stage_changed").after["reason"]
    assert LeadSequence.objects.get(lead=contacted_lead).status == LeadSequence.Status.STOPPED


def test_a_request_to_stop_suppresses_every_address_and_drafts_nothing(client, contacted_lead, capture):
    with capture(execute=True):
        inbound = email_in(client, "Please remove me from your mailing list and don't contact me again.")
    assert not Message.objects.filter(in_reply_to=inbound).exists()
    reading = ReplyClassification.objects.get(inbound=inbound)
    assert reading.kind == "stop" and "asked us to stop" in reading.outcome
    assert set(Suppression.objects.values_list("address", flat=True)) == {"sam@salon.example", "+447700900123"}
    contacted_lead.refresh_from_db()
    assert contacted_lead.state == Lead.State.UNSUBSCRIBED


def test_two_replies_in_quick_succession_get_one_draft_that_answers_both(client, contacted_lead, capture):
    # The lead's first message two hours ago, our reply an hour ago; then two answers 10 s apart.
    InboundMessage.objects.filter(lead=contacted_lead).update(received_at=timezone.now() - timedelta(hours=2))
    Message.objects.filter(lead=contacted_lead).update(sent_at=timezone.now() - timedelta(hours=1))
    with capture(execute=True):
        first = email_in(client, "Do you also do the hosting?", message_id="<a1@mail.example>")
    draft = answer_to(first)
    InboundMessage.objects.filter(pk=first.pk).update(received_at=timezone.now() - timedelta(seconds=10))
    with capture(execute=True):
        second = email_in(client, "And can we start next week?", message_id="<a2@mail.example>")
    answers = Message.objects.filter(lead=contacted_lead).exclude(reply_kind="")
    assert answers.count() == 1
    draft.refresh_from_db()
    assert draft.in_reply_to_id == second.pk and draft.answers == [first.pk, second.pk]
    assert AuditEvent.objects.filter(action="message.redraft_answer", object_id=str(draft.pk)).exists()


def test_an_answer_to_a_price_objection_is_never_auto_sent(client, contacted_lead, capture, settings):
    AutoSendPolicy.objects.create(enabled=True, threshold=0.0)
    with capture(execute=True):
        inbound = email_in(client, "Thanks, but 4k is well over what we budgeted. Too expensive for us.")
    answer = answer_to(inbound)
    assert answer.reply_kind == "objection_price" and answer.status == Message.Status.PENDING_REVIEW
    assert "auto-send is off for answers to this kind of reply (objection_price)" in answer.auto_send_decision


def test_an_answer_to_a_plain_question_may_go_out_on_its_own(client, contacted_lead, capture):
    AutoSendPolicy.objects.create(enabled=True, threshold=0.0)
    with capture(execute=True):
        inbound = email_in(client, "Thanks Maya. Is there a callout fee?")
    answer = answer_to(inbound)
    assert answer.reply_kind == "question"
    assert "auto-send is off for answers" not in answer.auto_send_decision


OUT_OF_OFFICE = (
    "Thank you for your email. I am out of the office until Monday 14 December 2026 with limited access to email."
)


def test_an_out_of_office_changes_nothing_and_pauses_the_follow_ups_until_the_return_date(
    client, contacted_lead, capture
):
    with capture(execute=True):
        inbound = email_in(
            client, OUT_OF_OFFICE, subject="Automatic reply: Your website", headers="Auto-Submitted: auto-replied\n"
        )
    assert inbound.is_automated and "auto-submitted" in inbound.automated_reason
    returns = inbound.automated_until
    assert returns is not None and (returns.month, returns.day, returns.hour) == (12, 14, 9)
    contacted_lead.refresh_from_db()
    assert contacted_lead.state == Lead.State.CONTACTED  # no stage change
    run = LeadSequence.objects.get(lead=contacted_lead)
    assert run.status == LeadSequence.Status.ACTIVE  # the sequence goes on
    steps = list(run.steps.order_by("position"))
    assert all(step.due_at >= returns for step in steps)
    assert "paused by an auto-reply" in steps[0].reason
    assert not Message.objects.filter(lead=contacted_lead).exclude(reply_kind="").exists()
    reading = ReplyClassification.objects.get(inbound=inbound)
    assert reading.kind == "auto_reply" and reading.outcome == "no answer drafted: an auto-reply"


@pytest.mark.parametrize(
    "headers, subject, text",
    [
        ("X-Autoreply: yes\n", "Re: Your website", "Away this week."),
        ("Precedence: auto_reply\n", "Re: Your website", "Thanks, we got your message."),
        ("", "Undeliverable: Your website", "Delivery has failed to these recipients or groups."),
        ("", "Re: Your website", "I'm on holiday until 4 January and won't be checking emails. In my absence ..."),
    ],
)
def test_auto_replies_in_common_formats_never_stop_a_sequence(client, contacted_lead, capture, headers, subject, text):
    with capture(execute=True):
        inbound = email_in(client, text, subject=subject, headers=headers)
    assert inbound.is_automated
    contacted_lead.refresh_from_db()
    assert contacted_lead.state == Lead.State.CONTACTED
    assert LeadSequence.objects.get(lead=contacted_lead).status == LeadSequence.Status.ACTIVE


def test_a_person_mentioning_their_holiday_is_still_a_reply(client, contacted_lead, capture):
    with capture(execute=True):
        inbound = email_in(client, "I'm on holiday until Monday, but yes please, Tuesday at 10 works for a call.")
    assert not inbound.is_automated
    assert answer_to(inbound).reply_kind == "meeting"


def test_an_sms_answer_is_answered_by_sms(contacted_lead, capture, twilio):
    from messaging.inbound import inbound_text_receive

    with capture(execute=True):
        inbound_text_receive(
            channel="sms",
            sender="+447700900123",
            body="how much is a logo on top?",
            provider_message_id="SMreply1",
            name="",
            raw_payload={},
        )
    answer = Message.objects.get(lead=contacted_lead, reply_kind__gt="")
    assert (answer.channel, answer.to_address, answer.subject) == ("sms", "+447700900123", "")


def test_an_im_driving_text_is_an_auto_reply(contacted_lead, capture):
    from messaging.inbound import inbound_text_receive

    with capture(execute=True):
        outcome = inbound_text_receive(
            channel="sms",
            sender="+447700900123",
            body="I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
            provider_message_id="SMauto1",
            name="",
            raw_payload={},
        )
    assert outcome == "auto_reply"
    assert LeadSequence.objects.get(lead=contacted_lead).status == LeadSequence.Status.ACTIVE


def test_with_claude_the_answer_is_written_from_the_whole_conversation_redacted(
    client, contacted_lead, capture, anthropic_stub
):
    reply = {
        "subject": "Re: Your website",
        "body": "Hi [FIRST_NAME],\n\nThursday at 2pm is great. Yes, send the logo.\n\nMaya",
        "confidence": 0.9,
        "reasoning": "answers the meeting and the logo question",
    }
    anthropic_stub.queue(StubResponse(200, tool_use_message(reply)))
    with capture(execute=True):
        inbound = email_in(client, GROOMER + " You can also reach me at sam.private@example.org")
    answer = answer_to(inbound)
    assert answer.generated_by == "llm" and answer.body.startswith("Hi Sam,")
    prompt = json.dumps(anthropic_stub.requests[-1].body)
    assert "The lead answered us" in prompt and "Thursday at 2pm or Friday 10am" in prompt
    assert "We sent (email" in prompt  # our first reply is in the conversation
    assert "sam.private@example.org" not in prompt and "sam@salon.example" not in prompt


def test_an_unsubscribed_lead_writing_gets_a_stated_reason_not_a_draft(client, contacted_lead, capture):
    Lead.objects.filter(pk=contacted_lead.pk).update(state=Lead.State.UNSUBSCRIBED)
    with capture(execute=True):
        inbound = email_in(client, "Actually, what are your prices?")
    assert not Message.objects.filter(in_reply_to=inbound).exists()
    assert "unsubscribed" in ReplyClassification.objects.get(inbound=inbound).outcome


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_every_reply_gets_a_draft_or_a_stated_reason(client, contacted_lead, capture):
    texts = [
        "thursday?",
        "too expensive",
        "need to ask my wife",
        "wrong number",
        "Please talk to my colleague Anna instead: anna@salon.example",
        "cheers",
    ]
    for n, text in enumerate(texts):
        # Each answer is sent before the next reply, so each reply is a turn of its own.
        with capture(execute=True):
            inbound = email_in(client, text, message_id=f"<turn{n}@mail.example>")
        reading = ReplyClassification.objects.get(inbound=inbound)
        assert reading.outcome.startswith(("answer drafted", "no answer drafted: ")), reading.outcome
        answer = Message.objects.filter(in_reply_to=inbound).first()
        if answer is not None and answer.status == Message.Status.PENDING_REVIEW:
            send(answer)
    assert ReplyClassification.objects.filter(lead=contacted_lead).count() == len(texts)


def test_the_turn_waits_for_nothing_but_reads_only_what_came_after_our_last_message(contacted_lead):
    assert reply_turn_process(lead_id=contacted_lead.pk) is None  # nothing new from the lead
    assert not ReplyClassification.objects.exists()


def _day(at: datetime) -> tuple[int, int]:
    return at.month, at.day


def test_steps_due_after_the_return_date_keep_their_time(client, contacted_lead, capture):
    last = LeadSequenceStep.objects.get(lead_sequence__lead=contacted_lead, position=3)
    due = last.due_at
    with capture(execute=True):
        email_in(
            client,
            "I am away until tomorrow with limited access to email. Messages will not be forwarded.",
            subject="Out of Office",
        )
    last.refresh_from_db()
    assert _day(last.due_at) == _day(due)
    assert len(mail.outbox) == 1  # nothing was sent but the first reply


def test_a_second_message_before_our_first_reply_is_answered_by_that_same_draft(
    client, demo_knowledge, django_capture_on_commit_callbacks
):
    from leads.tests.factories import submit_lead
    from messaging.pipeline import lead_process

    lead = submit_lead("Can you quote for a new website for my bakery?", name="Jo Park", email="jo@bakery.example")
    lead_process(lead_id=lead.pk)
    first = Message.objects.get(lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        second = email_in(client, "Also, do you do online ordering?", sender="Jo Park <jo@bakery.example>")
    assert Message.objects.filter(lead=lead).count() == 1
    first.refresh_from_db()
    assert first.in_reply_to_id == second.pk and len(first.answers) == 2
    assert first.status == Message.Status.PENDING_REVIEW
    assert AuditEvent.objects.filter(action="message.redraft_answer", object_id=str(first.pk)).exists()


def test_an_answer_a_person_edited_is_left_as_they_left_it(client, contacted_lead, capture):
    from messaging.review import message_update_draft

    with capture(execute=True):
        first = email_in(client, "Do you also do the hosting?", message_id="<e1@mail.example>")
    draft = answer_to(first)
    message_update_draft(message_id=draft.pk, actor="user:ops", body=draft.body + "\n\nP.S. yes we do.")
    with capture(execute=True):
        second = email_in(client, "And logo design?", message_id="<e2@mail.example>")
    draft.refresh_from_db()
    assert draft.body.endswith("P.S. yes we do.") and draft.in_reply_to_id == first.pk
    assert answer_to(second).pk != draft.pk  # the new message gets its own draft


def test_an_answer_redrafted_because_the_lead_wrote_again_waits_for_a_person(client, contacted_lead, capture):
    AutoSendPolicy.objects.create(enabled=True, threshold=0.0)
    InboundMessage.objects.filter(lead=contacted_lead).update(received_at=timezone.now() - timedelta(hours=2))
    Message.objects.filter(lead=contacted_lead).update(sent_at=timezone.now() - timedelta(hours=1))
    with capture(execute=False):  # the first answer is approved for auto-send; its send job has not run yet
        # A question the knowledge answers well (0.58; "a callout fee" matched no fact but at 0.41, a hair over the
        # 0.4 floor, and so failed on a clean clone whose approximate index ranked the chunks otherwise).
        first = email_in(client, "Do you offer hosting?", message_id="<h1@mail.example>")
    reply_turn_process(lead_id=contacted_lead.pk)
    answer = answer_to(first)
    assert answer.status == Message.Status.APPROVED and answer.approved_by == "system:auto-send"
    with capture(execute=True):
        second = email_in(client, "And do you work weekends?", message_id="<h2@mail.example>")
    answer.refresh_from_db()
    assert (answer.status, answer.in_reply_to_id, answer.answers) == (
        "pending_review",
        second.pk,
        [first.pk, second.pk],
    )
    assert "held for review: the lead wrote again" in answer.auto_send_decision
