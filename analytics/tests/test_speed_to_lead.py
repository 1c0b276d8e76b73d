"""Speed to lead on the analytics page and the JSON API: minutes to a person seeing a lead and to its first message
(p50, p95) by intent and hour of arrival, the share of hot leads answered within five minutes, and the alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRecipient, LeadView
from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(db):
    now = timezone.now() - timedelta(hours=1)

    def lead(intent: str, *, seen: float | None, sent: float | None, name: str) -> Lead:
        made = Lead.objects.create(name=name, email=f"{name}@example.org", intent=intent)
        Lead.objects.filter(pk=made.pk).update(
            created_at=now, contacted_at=now + timedelta(minutes=sent) if sent is not None else None
        )
        if seen is not None:
            LeadView.objects.create(lead=made, viewer="user:ann", first_seen_at=now + timedelta(minutes=seen))
            LeadView.objects.create(lead=made, viewer="user:ben", first_seen_at=now + timedelta(minutes=seen + 30))
        return made

    made = [
        lead("hot", seen=1, sent=3, name="a"),
        lead("hot", seen=2, sent=12, name="b"),
        lead("warm", seen=30, sent=60, name="c"),
        lead("cold", seen=None, sent=None, name="d"),
    ]
    ann = AlertRecipient.objects.create(name="Ann", email="ann@x.example")
    ben = AlertRecipient.objects.create(name="Ben", email="ben@x.example", on_duty=False)
    common = {"kind": Alert.Kind.HOT_LEAD, "channel": "email", "lead": made[0]}
    Alert.objects.create(event="inbound:1", recipient=ann, status="acknowledged", **common)
    Alert.objects.create(event="inbound:2", recipient=ann, status="sent", **common)
    Alert.objects.create(event="inbound:2", recipient=ben, status="failed", level=1, **common)
    return made


def test_the_api_reports_minutes_to_seen_and_to_answered_by_intent(api, leads):
    speed = api.get("/api/analytics/speed-to-lead/", {"days": 7}).json()
    hot = next(row for row in speed["by_intent"] if row["intent"] == "hot")
    assert (hot["leads"], hot["seen_minutes_p50"], hot["first_message_minutes_p50"]) == (2, 1.5, 7.5)
    assert hot["first_message_minutes_p95"] == 11.5
    assert speed["hot_answered_within_5_minutes"] == 0.5 and speed["hot_leads"] == 2
    assert speed["overall"]["leads"] == 4 and speed["overall"]["seen"] == 3 and speed["overall"]["answered"] == 3
    assert sum(row["leads"] for row in speed["by_hour"]) == 4
    assert speed["alerts"] == {
        "sent": 2,
        "acknowledged": 1,
        "acknowledged_share": 0.5,
        "failed": 1,
        "escalations": 1,
        "items_escalated": 1,
        "minutes_to_acknowledge_p50": None,  # acknowledged without a time in this fixture
    }


def test_the_page_shows_the_same_numbers(admin_client, leads):
    page = admin_client.get("/analytics/speed/?days=7")
    assert page.status_code == 200
    text = page.text
    assert "hot leads answered within 5 minutes" in text and "50%" in text
    assert 'id="bp-speed-intent"' in text and "1 acknowledged" in text
