"""A hot lead's first reply offers free times; the lead's answer books one (or gets new times, or moves or cancels
it), with a confirmation drafted through the usual review and an iCalendar invitation for the lead and the
business. Two leads never get the same slot."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from bizpilot.errors import SlotUnavailable
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.models import Lead
from leads.tests.factories import submit_lead
from meetings.booking import meeting_book
from meetings.models import Meeting, SlotOffer
from meetings.slot_words import WORDS
from meetings.slots import calendar_read, free_slots
from messaging.models import Message
from messaging.pipeline import lead_process
from messaging.tests.conftest import HOT
from messaging.tests.factories import send
from messaging.tests.test_conversation import AUTH, email_in

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def mailboxes(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": AUTH}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def offered(lead: Lead) -> list[datetime]:
    offer = SlotOffer.objects.filter(lead=lead).first()
    assert offer is not None
    return [datetime.fromisoformat(iso).astimezone(ZoneInfo(offer.lead_time_zone)) for iso in offer.slots]


def english(at: datetime) -> str:
    return f"{WORDS['en'].days[at.weekday()]} at {at:%H:%M}"


@pytest.mark.django_db
def test_a_hot_draft_offers_free_times_on_different_days_in_the_leads_own_time_zone(week, demo_knowledge):
    lead = submit_lead(HOT, name="Dana Ruiz", email="dana@shop.example", phone="+12125550123")
    draft = lead_process(lead_id=lead.pk)
    assert draft is not None
    times = offered(lead)
    assert len(times) == 3 and len({t.date() for t in times}) == 3
    assert {str(t.tzinfo) for t in times} == {"America/New_York"}  # the phone number's zone
    assert all(8 <= t.hour < 20 for t in times)  # waking hours in New York
    free = {s.start for s in free_slots(calendar_read(week, now=timezone.now()))}
    assert all(t in free for t in times)
    assert "Could we have a 30-minute call? I can do " in draft.body and "(New York time)" in draft.body
    for at in times:
        assert f"{at:%H:%M}" in draft.body and WORDS["en"].days[at.weekday()] in draft.body
    assert "Reply with two times" not in draft.body
    assert SlotOffer.objects.get(lead=lead).message_id == draft.pk


@pytest.mark.django_db
def test_a_spanish_hot_lead_is_offered_times_in_spanish(week, demo_knowledge):
    text = "Necesitamos una web nueva para nuestra tienda el mes que viene, el presupuesto está aprobado. ¿Empezamos?"
    lead = submit_lead(text, name="Lucía Gómez", email="lucia@tienda.example")
    draft = lead_process(lead_id=lead.pk)
    assert draft is not None and draft.body.startswith("Hola")
    assert "¿Podríamos hablar 30 minutos? Puedo el " in draft.body and "(hora de Madrid)" in draft.body


@pytest.mark.django_db
def test_with_a_booking_link_the_draft_offers_the_link(week, demo_knowledge):
    week.booking_link = "https://cal.com/northwind/intro"
    week.save()
    lead = submit_lead(HOT, name="Kim", email="kim@example.org")
    draft = lead_process(lead_id=lead.pk)
    assert draft is not None and "Pick a time that suits you here: https://cal.com/northwind/intro" in draft.body
    assert not SlotOffer.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_claude_is_given_the_times_to_offer(week, demo_knowledge, anthropic_stub):
    reply = {"subject": "Your salon site", "body": "Hi [FIRST_NAME],\n\nThanks!", "confidence": 0.9}
    anthropic_stub.queue(StubResponse(200, tool_use_message({**reply, "reasoning": "r", "facts_used": []})))
    lead = submit_lead(HOT, name="Ruth", email="ruth@salon.example")
    lead_process(lead_id=lead.pk)
    prompt = anthropic_stub.requests[-1].body["messages"][0]["content"]
    text = prompt if isinstance(prompt, str) else " ".join(block["text"] for block in prompt)
    assert "<meeting>\nCould we have a 30-minute call? I can do " in text
    assert all(f"{t:%H:%M}" in text for t in offered(lead))


@pytest.mark.django_db
def test_the_leads_answer_books_the_time_and_the_confirmation_carries_the_invitation(
    week, contacted_lead, client, django_capture_on_commit_callbacks
):
    chosen = offered(contacted_lead)[1]
    with django_capture_on_commit_callbacks(execute=True):
        inbound = email_in(client, f"Thanks Maya, {english(chosen)} works for me.")
    meeting = Meeting.objects.get(lead=contacted_lead)
    assert meeting.starts_at == chosen and meeting.status == Meeting.Status.BOOKED
    assert meeting.booked_from_id == inbound.pk and meeting.ends_at - meeting.starts_at == timedelta(minutes=30)
    contacted_lead.refresh_from_db()
    assert contacted_lead.meeting_booked_at is not None
    answer = Message.objects.get(in_reply_to=inbound)
    assert "You're booked in for " + english(chosen).replace(" at ", f" {chosen.day} {chosen:%B} at ") in answer.body
    assert not any("a person confirms the time" in c for c in answer.checks_failed)
    event = Calendar.from_ical(answer.calendar_invite)
    assert str(event["METHOD"]) == "REQUEST"
    vevent = event.walk("VEVENT")[0]
    assert vevent.decoded("DTSTART") == meeting.starts_at and str(vevent["UID"]) == f"{meeting.uid}@bizpilot"
    assert "sam@salon.example" in str(vevent["ATTENDEE"])
    # The business's copy went at once, to its diary address.
    (copy,) = [m for m in mail.outbox if m.to == ["diary@northwind.example"]]
    assert "Meeting booked" in copy.subject and copy.attachments[0][0] == "invite.ics"
    # The lead's comes with the confirmation, once a person approves it.
    mail.outbox.clear()
    send(answer)
    (sent,) = mail.outbox
    name, content, mimetype = sent.attachments[0]
    assert (name, mimetype) == ("invite.ics", "text/calendar") and "METHOD:REQUEST" in content


@pytest.mark.django_db
def test_a_spanish_answer_books_a_free_time_that_was_not_offered(
    week, contacted_lead, client, django_capture_on_commit_callbacks
):
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=2)
    while day.weekday() > 4 or day in {t.date() for t in offered(contacted_lead)}:
        day += timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        email_in(client, f"Perfecto, el {WORDS['es'].days[day.weekday()]} a las 10 me viene bien.")
    meeting = Meeting.objects.get(lead=contacted_lead)
    assert meeting.starts_at == datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON)
    answer = Message.objects.get(lead=contacted_lead, reply_kind__gt="")
    assert "Queda reservada nuestra cita el " in answer.body


@pytest.mark.django_db
def test_none_of_those_gets_new_times_never_offered_before(
    week, contacted_lead, client, django_capture_on_commit_callbacks
):
    first = set(offered(contacted_lead))
    with django_capture_on_commit_callbacks(execute=True):
        inbound = email_in(client, "Sorry, none of those work for me, I'm on site all day.")
    assert not Meeting.objects.exists()
    answer = Message.objects.get(in_reply_to=inbound)
    assert answer.body.startswith("Hi Sam,\n\nNo problem. How about ")
    newest = SlotOffer.objects.filter(lead=contacted_lead).first()
    assert newest is not None and newest.message_id == answer.pk
    assert not first & {datetime.fromisoformat(iso) for iso in newest.slots}


@pytest.mark.django_db
def test_a_booked_meeting_is_moved_then_cancelled_with_the_invitations_updated(
    week, contacted_lead, client, django_capture_on_commit_callbacks
):
    times = offered(contacted_lead)
    with django_capture_on_commit_callbacks(execute=True):
        email_in(client, f"{english(times[0])} please")
    later = times[2]
    with django_capture_on_commit_callbacks(execute=True):
        moved = email_in(client, f"Something came up, can we move it to {english(later)}?")
    meeting = Meeting.objects.get(lead=contacted_lead)
    assert meeting.starts_at == later and meeting.sequence == 1
    answer = Message.objects.get(in_reply_to=moved)
    assert "your meeting is now" in answer.body
    assert "SEQUENCE:1" in answer.calendar_invite
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = email_in(client, "I'm so sorry, I need to cancel our call.")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED and meeting.sequence == 2
    answer = Message.objects.get(in_reply_to=cancelled)
    assert "Your meeting is cancelled" in answer.body and "METHOD:CANCEL" in answer.calendar_invite
    assert [
        m.subject.split(":")[1].split(" with")[0].strip() for m in mail.outbox if m.to == ["diary@northwind.example"]
    ] == [
        "Meeting booked",
        "Meeting moved",
        "Meeting cancelled",
    ]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_bookings_of_one_slot_give_one_meeting(week):
    leads = [Lead.objects.create(name=f"L{i}", email=f"l{i}@example.org") for i in range(50)]
    slot = next(free_slots(calendar_read(week, now=timezone.now())))
    start = threading.Barrier(50)
    outcomes: list[str] = []

    def book(lead_id: int) -> None:
        start.wait()
        try:
            meeting_book(lead_id=lead_id, starts_at=slot.start, actor="test")
            outcomes.append("booked")
        except SlotUnavailable:
            outcomes.append("taken")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(lead.pk,)) for lead in leads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["taken"] * 49
    assert Meeting.objects.filter(starts_at=slot.start, status=Meeting.Status.BOOKED).count() == 1


@pytest.mark.django_db
def test_a_meeting_shows_in_the_leads_conversation_and_in_the_meetings_list(
    week, contacted_lead, client, admin_client, api, django_capture_on_commit_callbacks
):
    chosen = offered(contacted_lead)[0]
    with django_capture_on_commit_callbacks(execute=True):
        email_in(client, f"{english(chosen)} is good")
    screen = admin_client.get(f"/admin/messaging/conversation/{contacted_lead.pk}/change/").text
    assert "Booked by BizPilot from the lead&#x27;s answer): Booked" in screen
    assert 'id="bp-meeting-' in screen and "Meeting booked (Booked by BizPilot" in screen  # in the thread too
    listing = admin_client.get("/admin/meetings/meeting/").text
    assert "Sam Lee" in listing
    items = api.get(f"/api/leads/{contacted_lead.pk}/conversation/").json()["results"]
    (meeting,) = [item for item in items if item["type"] == "meeting"]
    assert (meeting["status"], meeting["source"]) == ("booked", "bizpilot")
    assert datetime.fromisoformat(meeting["starts_at"]) == chosen


@pytest.mark.django_db
def test_a_text_message_offers_two_times_and_stays_short(week, demo_knowledge):
    lead = submit_lead(HOT, name="Ade", phone="+447700900555", metadata={"text_consent": True})
    Lead.objects.filter(pk=lead.pk).update(preferred_channel="sms")
    draft = lead_process(lead_id=lead.pk)
    assert draft is not None and draft.channel == "sms"
    assert len(offered(lead)) == 2 and " or " in draft.body
    assert len(draft.body) <= 480 and not any("long" in check for check in draft.checks_failed)
