"""A person's meetings in their export, kept without their name and address when they are erased, and moved with
them when two of their leads are merged (with the alerts and the times offered)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, LeadView
from leads.erasure import lead_erase, lead_export
from leads.identity import leads_merge
from leads.models import Lead
from meetings.models import Meeting, SlotOffer

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(db):
    lead = Lead.objects.create(name="Priya Raman", email="priya@ramansalon.example")
    start = timezone.now() + timedelta(days=2)
    Meeting.objects.create(
        lead=lead,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        source=Meeting.Source.CALCOM,
        external_id="bk-1",
        attendee_email=lead.email,
        attendee_name=lead.name,
        cancel_reason="Priya's own words",
    )
    SlotOffer.objects.create(lead=lead, slots=[start.isoformat()], lead_time_zone="Europe/London")
    return lead


def test_a_persons_meetings_are_exported_and_then_erased(booked):
    export = lead_export(lead_id=booked.pk)
    assert export["meetings"][0]["attendee_email"] == "priya@ramansalon.example"
    assert export["meeting_times_offered"][0]["lead_time_zone"] == "Europe/London"
    lead_erase(lead_id=booked.pk, actor="user:admin")
    meeting = Meeting.objects.get()
    assert (meeting.attendee_email, meeting.attendee_name, meeting.cancel_reason) == ("", "", "")
    assert meeting.status == Meeting.Status.BOOKED  # the slot stays taken, the funnel keeps its count


def test_merging_two_leads_moves_their_meetings_offers_and_alerts(booked):
    other = Lead.objects.create(name="Priya R", phone="+447700900777")
    Meeting.objects.filter(lead=booked).update(lead=other)
    SlotOffer.objects.filter(lead=booked).update(lead=other)
    Alert.objects.create(event="inbound:1", kind=Alert.Kind.HOT_LEAD, channel="slack", lead=other)
    LeadView.objects.create(lead=other, viewer="user:ann", first_seen_at=timezone.now())
    LeadView.objects.create(lead=booked, viewer="user:ann", first_seen_at=timezone.now() - timedelta(hours=1))
    leads_merge(keep_id=booked.pk, merge_id=other.pk, actor="user:admin")
    assert Meeting.objects.get().lead_id == booked.pk and SlotOffer.objects.get().lead_id == booked.pk
    assert Alert.objects.get().lead_id == booked.pk
    assert LeadView.objects.get().lead_id == booked.pk  # one first sight per person
