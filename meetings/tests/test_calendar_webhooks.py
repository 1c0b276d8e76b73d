"""Meetings booked through the business's Cal.com or Calendly page arrive by their webhooks, signed as each
provider signs: recorded on the lead with the booker's email, moved and cancelled; forged ones are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from leads.tests.factories import submit_lead
from meetings.models import Meeting

pytestmark = pytest.mark.django_db
CALCOM_SECRET = "cal-secret-123"
CALENDLY_KEY = "calendly-signing-key"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.CALCOM_WEBHOOK_SECRET = CALCOM_SECRET
    settings.CALENDLY_WEBHOOK_SIGNING_KEY = CALENDLY_KEY
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def calcom(client, trigger: str, payload: dict, *, secret: str = CALCOM_SECRET):
    raw = json.dumps({"triggerEvent": trigger, "createdAt": "2026-12-05T10:00:00Z", "payload": payload}).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/webhooks/calcom/", raw, content_type="application/json", HTTP_X_CAL_SIGNATURE_256=signature)


def calendly(client, event: str, payload: dict, *, key: str = CALENDLY_KEY, at: int | None = None):
    raw = json.dumps({"event": event, "created_at": "2026-12-05T10:00:00Z", "payload": payload}).encode()
    stamp = str(at or int(time.time()))
    signature = hmac.new(key.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/calendly/",
        raw,
        content_type="application/json",
        HTTP_CALENDLY_WEBHOOK_SIGNATURE=f"t={stamp},v1={signature}",
    )


def booking(uid: str, start: str, end: str, **extra) -> dict:
    attendee = {"email": "Priya@RamanSalon.example", "name": "Priya Raman", "timeZone": "Europe/London"}
    return {"uid": uid, "startTime": start, "endTime": end, "attendees": [attendee], "title": "Intro call", **extra}


def test_a_calcom_booking_is_recorded_on_the_lead_then_moved_and_cancelled(client, django_capture_on_commit_callbacks):
    lead = submit_lead("Can we talk about a new site?", name="Priya Raman", email="priya@ramansalon.example")
    with django_capture_on_commit_callbacks(execute=True):
        created = calcom(client, "BOOKING_CREATED", booking("bk-1", "2026-12-10T14:00:00Z", "2026-12-10T14:30:00Z"))
    assert created.status_code == 200
    meeting = Meeting.objects.get(source="calcom")
    assert meeting.lead_id == lead.pk and meeting.external_id == "bk-1" and meeting.starts_at.hour == 14
    lead.refresh_from_db()
    assert lead.meeting_booked_at is not None
    assert calcom(
        client, "BOOKING_CREATED", booking("bk-1", "2026-12-10T14:00:00Z", "2026-12-10T14:30:00Z")
    ).json() == {"meeting": meeting.pk}  # a retried delivery records nothing new
    moved = booking("bk-2", "2026-12-11T09:00:00Z", "2026-12-11T09:30:00Z", rescheduleUid="bk-1")
    assert calcom(client, "BOOKING_RESCHEDULED", moved).status_code == 200
    meeting.refresh_from_db()
    assert (meeting.external_id, meeting.starts_at.day, meeting.sequence) == ("bk-2", 11, 1)
    cancelled = booking("bk-2", "2026-12-11T09:00:00Z", "2026-12-11T09:30:00Z", cancellationReason="ill")
    assert calcom(client, "BOOKING_CANCELLED", cancelled).status_code == 200
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED and meeting.cancel_reason == "ill"
    assert Meeting.objects.count() == 1


def test_a_forged_calcom_webhook_is_refused_and_nothing_is_stored(client):
    response = calcom(
        client, "BOOKING_CREATED", booking("bk-9", "2026-12-10T14:00:00Z", "2026-12-10T14:30:00Z"), secret="guess"
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    unsigned = client.post("/webhooks/calcom/", b"{}", content_type="application/json")
    assert unsigned.status_code == 403
    assert not Meeting.objects.exists()


def test_a_calendly_booking_and_its_reschedule_are_recorded(client):
    lead = submit_lead("Hello", name="Jo", email="jo@example.org")
    scheduled = {"start_time": "2026-12-10T10:00:00.000000Z", "end_time": "2026-12-10T10:30:00.000000Z"}
    invitee = {
        "uri": "https://api.calendly.com/scheduled_events/E1/invitees/I1",
        "email": "jo@example.org",
        "name": "Jo",
    }
    assert calendly(client, "invitee.created", {**invitee, "scheduled_event": scheduled}).status_code == 200
    meeting = Meeting.objects.get(source="calendly")
    assert meeting.lead_id == lead.pk and meeting.starts_at.hour == 10
    # A move: the old invitee cancelled (rescheduled: true), a new one created that names it.
    assert (
        calendly(client, "invitee.canceled", {**invitee, "rescheduled": True, "scheduled_event": scheduled}).status_code
        == 200
    )
    later = {"start_time": "2026-12-11T15:00:00Z", "end_time": "2026-12-11T15:30:00Z"}
    new = {**invitee, "uri": "https://api.calendly.com/scheduled_events/E2/invitees/I2", "old_invitee": invitee["uri"]}
    assert calendly(client, "invitee.created", {**new, "scheduled_event": later}).status_code == 200
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.BOOKED and meeting.starts_at.day == 11 and Meeting.objects.count() == 1
    assert (
        calendly(client, "invitee.canceled", {**new, "rescheduled": False, "cancellation": {"reason": "x"}}).status_code
        == 200
    )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED


def test_calendly_signatures_that_are_wrong_or_stale_are_refused(client):
    payload = {
        "uri": "u1",
        "email": "a@b.example",
        "scheduled_event": {"start_time": "2026-12-10T10:00:00Z", "end_time": "2026-12-10T10:30:00Z"},
    }
    assert calendly(client, "invitee.created", payload, key="wrong").status_code == 403
    assert calendly(client, "invitee.created", payload, at=int(time.time()) - 600).status_code == 403
    assert not Meeting.objects.exists()


def test_a_signed_body_that_is_no_booking_is_a_clear_error(client):
    response = calcom(client, "BOOKING_CREATED", {"uid": "bk-3", "startTime": "tomorrow", "endTime": ""})
    assert response.status_code == 400 and "Not a booking event" in response.json()["error"]["message"]
