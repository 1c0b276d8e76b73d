"""The conversation's numbers, on the messaging page and in the metrics API (the same selector): the reply rate,
the reply kinds (objections broken out), auto-replies apart, and the time from a lead's reply to our answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads.models import InboundMessage
from messaging.models import Message
from messaging.tests.factories import send
from messaging.tests.test_conversation import email_in


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "sendgrid:inbound-secret"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_reply_rate_kinds_and_time_to_answer(
    api, admin_client, client, contacted_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        price = email_in(client, "Too expensive for us, sorry.", message_id="<k1@mail.example>")
    answer = Message.objects.get(in_reply_to=price)
    # The lead's reply arrived two minutes before the answer was drafted, and it went out three minutes after.
    InboundMessage.objects.filter(pk=price.pk).update(received_at=answer.created_at - timedelta(minutes=2))
    send(answer)
    Message.objects.filter(pk=answer.pk).update(sent_at=answer.created_at + timedelta(minutes=3))
    with django_capture_on_commit_callbacks(execute=True):
        email_in(
            client, "Out of office until Monday.", subject="Automatic reply: hello", message_id="<k2@mail.example>"
        )
    stats = api.get("/api/dashboard/metrics/", {"days": 7}).json()["messaging"]["conversations"]
    assert (stats["contacted"], stats["replied"], stats["reply_rate"]) == (1, 1, 1.0)
    assert stats["replies"] == 1 and stats["auto_replies"] == 1
    kinds = {k["kind"]: k["count"] for k in stats["kinds"]}
    assert kinds["objection_price"] == 1 and sum(kinds.values()) == 1
    assert [o["kind"] for o in stats["objections"]] == [
        "objection_price",
        "objection_timing",
        "objection_competitor",
        "objection_authority",
    ]
    assert stats["reply_to_draft_seconds_p50"] == pytest.approx(120, abs=1)
    assert stats["reply_to_answer_minutes_p50"] == pytest.approx(5, abs=0.05)
    page = admin_client.get("/analytics/messaging/?days=7").content.decode()
    assert 'id="bp-conversations"' in page and "Objection: price" in page


def test_with_no_replies_the_numbers_say_so(api, db):
    stats = api.get("/api/dashboard/metrics/", {"days": 7}).json()["messaging"]["conversations"]
    assert stats["reply_rate"] is None and stats["reply_to_answer_minutes_p95"] is None
    assert stats["replies"] == 0 and all(k["share"] is None for k in stats["kinds"])
