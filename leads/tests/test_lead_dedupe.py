"""One person, one lead: emails compare case-insensitively, phones in E.164; repeats and replies are recognised."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from bizpilot.errors import ValidationFailed
from leads.contacts import normalize_phone
from leads.ingest import LeadInput, lead_ingest
from leads.models import InboundMessage, Lead
from leads.signals import lead_received, lead_wrote_again

pytestmark = pytest.mark.django_db


def ingest(channel="api", provider_id="", **fields) -> Lead:
    fields.setdefault("message", "Hello")
    return lead_ingest(
        data=LeadInput(**fields), channel=channel, actor="test", raw_payload=fields, provider_message_id=provider_id
    )


@pytest.mark.parametrize(
    "written, e164",
    [
        ("07700 900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("whatsapp:+447700900123", "+447700900123"),
        ("+1 415-555-0100", "+14155550100"),
    ],
)
def test_phone_numbers_are_stored_in_e164(written, e164):
    assert normalize_phone(written) == e164


def test_the_same_email_in_another_case_attaches_to_the_known_lead_and_fills_blanks():
    first = ingest(email="Priya@ShahPhysio.example", name="Priya Shah")
    again = ingest(email="priya@shahphysio.EXAMPLE", company="Shah Physio", name="P. Shah", message="Any news?")
    assert (again.pk, again.ingest_outcome) == (first.pk, "attached")
    again.refresh_from_db()
    assert (again.name, again.company, again.email) == ("Priya Shah", "Shah Physio", "Priya@shahphysio.example")
    assert list(again.inbound_messages.values_list("body", flat=True)) == ["Hello", "Any news?"]


def test_a_phone_written_two_ways_is_one_person_and_their_email_is_learned():
    first = ingest(phone="07700 900123", channel="sms")
    again = ingest(phone="+44 7700 900123", email="tom@example.com", channel="whatsapp")
    assert again.pk == first.pk and Lead.objects.count() == 1
    first.refresh_from_db()
    assert (first.phone, first.email, first.preferred_channel) == ("+447700900123", "tom@example.com", "sms")


def test_a_provider_retry_with_the_same_id_stores_nothing_new():
    first = ingest(phone="+447700900123", channel="sms", provider_id="SM123")
    retry = ingest(phone="+447700900123", channel="sms", provider_id="SM123")
    assert (retry.pk, retry.ingest_outcome) == (first.pk, "duplicate")
    assert InboundMessage.objects.count() == 1


def test_only_a_new_person_starts_the_pipeline(django_capture_on_commit_callbacks):
    received = []
    lead_received.connect(lambda sender, **kw: received.append(kw["lead_id"]), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = ingest(email="a@b.example")
            ingest(email="A@b.example")
    finally:
        lead_received.disconnect(dispatch_uid="t1")
    assert received == [first.pk]


def test_a_message_from_a_contacted_lead_is_a_reply(django_capture_on_commit_callbacks):
    lead = ingest(email="ann@shop.example")
    Lead.objects.filter(pk=lead.pk).update(state=Lead.State.CONTACTED)
    replies = []
    lead_wrote_again.connect(lambda sender, **kw: replies.append(kw), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            reply = ingest(email="ann@shop.example", message="Yes please, call me Tuesday")
    finally:
        lead_wrote_again.disconnect(dispatch_uid="t2")
    assert reply.ingest_outcome == "reply"
    assert Lead.objects.get(pk=lead.pk).state == "replied"
    assert replies == [
        {
            "lead_id": lead.pk,
            "inbound_id": lead.inbound_messages.last().pk,
            "is_reply": True,
            "signal": lead_wrote_again,
        }
    ]


def test_an_impossible_phone_number_is_refused_with_the_field_named():
    with pytest.raises(ValidationFailed) as error:
        ingest(phone="+44 12")
    assert "phone" in error.value.fields and Lead.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_messages_from_one_person_make_one_lead():
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver(text):
        barrier.wait()
        try:
            outcomes.append(ingest(email="rush@example.com", message=text).ingest_outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(t,)) for t in ("form", "email")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["attached", "new"]
    assert Lead.objects.count() == 1 and InboundMessage.objects.count() == 2
