"""A hot lead reaches a person at once: one alert per person and channel (email through SendGrid's API, a text
through Twilio's, a Slack incoming webhook), holding none of the lead's personal data; failures retried then shown;
delivery reports recorded; opening the item acknowledges it; nobody opening it escalates."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from alerts.delivery import alerts_deliver_due
from alerts.digest import alerts_send_digests as send_digests
from alerts.escalation import alerts_escalate_due
from alerts.escalation import alerts_escalate_due as escalate
from alerts.models import Alert, LeadView, TeamWebhook
from alerts.raising import alerts_raise_for_turn
from alerts.tests.conftest import HOT, LEAD, sent_emails
from intelligence.tests.anthropic_stub import AnthropicStub, StubResponse
from leads.models import Lead
from messaging.models import Message
from messaging.review import message_approve
from messaging.tests.test_email_tracking import events
from messaging.tests.twilio_support import post_signed

pytestmark = pytest.mark.django_db


def post_lead(api, capture, message=HOT, **fields):
    with capture(execute=True):
        response = api.post("/api/leads/", {"message": message, **LEAD, **fields}, format="json")
    assert response.status_code == 202, response.content
    return Lead.objects.get(pk=response.json()["id"])


def twilio_texts(stub: AnthropicStub) -> list[dict]:
    return [r.body for r in stub.requests if r.path.endswith("/Messages.json") and "Body" in r.body]


@pytest.fixture
def hot_lead(api, demo_knowledge, people, sendgrid, twilio, slack, django_capture_on_commit_callbacks):
    twilio.queue(StubResponse(201, {"sid": "SMalert1", "status": "queued", "account_sid": "AC1"}))
    lead = post_lead(api, django_capture_on_commit_callbacks)
    assert lead.intent == "hot"
    return lead


def test_a_hot_lead_through_the_api_alerts_each_channel_exactly_once(hot_lead, people, sendgrid, twilio, slack):
    emails, texts = sent_emails(sendgrid), twilio_texts(twilio)
    assert [e["to"] for e in emails] == [["ann@northwind.example"]]  # Ben and Cara are not on duty
    assert [t["To"] for t in texts] == ["+447700900001"]
    assert len(slack.requests) == 1
    alerts = Alert.objects.filter(lead=hot_lead)
    assert sorted(a.channel for a in alerts) == ["browser", "email", "slack", "sms"]  # the browser's: the admin's count
    assert {a.kind for a in alerts} == {Alert.Kind.HOT_LEAD}
    assert {a.status for a in alerts} == {Alert.Status.SENT, Alert.Status.DELIVERED}  # Slack's 200: in the channel
    # The text's delivery report comes to our alert's own callback.
    assert texts[0]["StatusCallback"].endswith(f"/webhooks/twilio/alert-status/?alert={alerts.get(channel='sms').pk}")

    # The job again, and the sweep: nothing more is sent.
    draft = Message.objects.get(lead=hot_lead)
    again = alerts_raise_for_turn(
        lead_id=hot_lead.pk, inbound_id=draft.in_reply_to_id, message_id=draft.pk, intent="hot", kind="lead"
    )
    alerts_deliver_due(now=timezone.now() + timedelta(minutes=1))
    assert len(again) == 4 and Alert.objects.filter(lead=hot_lead).count() == 4
    assert (len(sent_emails(sendgrid)), len(twilio_texts(twilio)), len(slack.requests)) == (1, 1, 1)


def test_an_alert_carries_a_link_and_none_of_the_leads_personal_data(hot_lead, sendgrid, twilio, slack):
    url = f"https://bizpilot.example.com/admin/messaging/conversation/{hot_lead.pk}/change/"
    email, text = sent_emails(sendgrid)[0], twilio_texts(twilio)[0]
    posted = slack.requests[0]
    assert url in email["text"] and url in text["Body"]
    assert posted.body["text"].endswith(f"<{url}|Open in BizPilot>")
    assert posted.body["blocks"][1]["elements"][0]["url"] == url
    for raw in (email["raw"], twilio.requests[-1].raw, posted.raw):
        sent = raw.decode()
        for private in ("Priya", "Raman", "ramansalon", "900777", "salon next month", "budget"):
            assert private not in sent, (private, sent)


def test_delivery_reports_mark_alerts_delivered_and_forged_ones_are_refused(client, hot_lead, settings):
    sms = Alert.objects.get(lead=hot_lead, channel="sms")
    path = f"/webhooks/twilio/alert-status/?alert={sms.pk}"
    params = {"MessageSid": "SMalert1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    forged = client.post(path, params, HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    sms.refresh_from_db()
    assert sms.status == Alert.Status.SENT
    assert post_signed(client, path, params).status_code == 204
    sms.refresh_from_db()
    assert sms.status == Alert.Status.DELIVERED and sms.delivered_at is not None

    email = Alert.objects.get(lead=hot_lead, channel="email")
    event = {
        "email": "ann@northwind.example",
        "event": "delivered",
        "timestamp": int(timezone.now().timestamp()),
        "sg_event_id": "ev-alert-1",
        "sg_message_id": "sg-batch-1.filter",
        "anymail_id": email.provider_message_id,
        "bizpilot_alert_id": str(email.pk),
    }
    assert events(client, event).status_code == 200
    email.refresh_from_db()
    assert email.status == Alert.Status.DELIVERED


def test_opening_the_item_acknowledges_its_alerts_and_records_who_saw_it_first(hot_lead, admin_client):
    before = timezone.now()
    assert admin_client.get(f"/admin/messaging/conversation/{hot_lead.pk}/change/").status_code == 200
    alerts = Alert.objects.filter(lead=hot_lead)
    assert {a.status for a in alerts} == {Alert.Status.ACKNOWLEDGED}
    assert {a.acknowledged_by for a in alerts} == {"user:admin"}
    seen = LeadView.objects.get(lead=hot_lead)
    assert seen.viewer == "user:admin" and seen.first_seen_at >= before
    # A second look keeps the first time.
    admin_client.get(f"/admin/messaging/message/{Message.objects.get(lead=hot_lead).pk}/change/")
    assert LeadView.objects.get(lead=hot_lead).first_seen_at == seen.first_seen_at


def test_an_unopened_hot_item_escalates_to_the_next_person_then_the_admins(
    hot_lead, sendgrid, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_ESCALATION_MINUTES = 5
    now = timezone.now()

    def alerts_escalate_due(now):
        with django_capture_on_commit_callbacks(execute=True):
            return escalate(now=now)

    assert alerts_escalate_due(now=now + timedelta(minutes=4)) == 0
    assert alerts_escalate_due(now=now + timedelta(minutes=5, seconds=1)) == 1
    assert sent_emails(sendgrid)[-1]["to"] == ["ben@northwind.example"]
    assert "you are next on the escalation list" in sent_emails(sendgrid)[-1]["text"]
    assert alerts_escalate_due(now=now + timedelta(minutes=6)) == 0  # Ben's alert has its own five minutes
    assert alerts_escalate_due(now=now + timedelta(minutes=10, seconds=2)) == 1
    assert sent_emails(sendgrid)[-1]["to"] == ["cara@northwind.example"]
    assert alerts_escalate_due(now=now + timedelta(minutes=30)) == 0  # the end of the list
    assert list(Alert.objects.filter(lead=hot_lead).values_list("level", flat=True).distinct().order_by("level")) == [
        0,
        1,
        2,
    ]


def test_opening_or_reviewing_the_item_stops_its_escalation(hot_lead, admin_client, settings):
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES, seconds=5)
    draft = Message.objects.get(lead=hot_lead)
    message_approve(message_id=draft.pk, actor="user:op")
    assert alerts_escalate_due(now=later) == 0
    Message.objects.filter(pk=draft.pk).update(status=Message.Status.PENDING_REVIEW)
    admin_client.get(f"/admin/messaging/conversation/{hot_lead.pk}/change/")
    assert alerts_escalate_due(now=later) == 0
    assert not Alert.objects.filter(level__gt=0).exists()


def test_a_failing_channel_is_retried_then_shown_as_failed(
    api, demo_knowledge, people, sendgrid, slack, settings, admin_client, django_capture_on_commit_callbacks
):
    settings.ALERT_MAX_ATTEMPTS = 3
    people["ann"].channels = ["email"]
    people["ann"].save()
    slack.queue(StubResponse(503, None))
    lead = post_lead(api, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(lead=lead, webhook__isnull=False)
    assert alert.status == Alert.Status.PENDING and alert.attempts == 1 and "HTTP 503" in alert.last_error
    assert alerts_deliver_due(now=timezone.now() + timedelta(seconds=10)) == 0  # waits its backoff
    alerts_deliver_due(now=timezone.now() + timedelta(seconds=31))
    alerts_deliver_due(now=timezone.now() + timedelta(minutes=5))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.FAILED and alert.attempts == 3 and len(slack.requests) == 3
    count = admin_client.get("/alerts/hot-count/").json()
    assert count["failed_alerts"] == 1 and count["hot"] == 1
    # Retried until it answers: a later channel that recovers delivers.
    slack.queue(StubResponse(200, None))
    second = post_lead(api, django_capture_on_commit_callbacks, email="other@example.org", phone="", name="Jo")
    assert Alert.objects.get(lead=second, webhook__isnull=False).status == Alert.Status.DELIVERED


def test_a_webhook_that_refuses_for_good_fails_at_once(
    api, demo_knowledge, people, slack, django_capture_on_commit_callbacks
):
    slack.queue(StubResponse(404, None))  # no_service: the webhook was removed
    lead = post_lead(api, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(lead=lead, webhook__isnull=False)
    assert alert.status == Alert.Status.FAILED and alert.attempts == 1 and "HTTP 404" in alert.last_error


def test_quiet_hours_hold_an_alert_until_they_end_in_the_persons_own_time_zone(
    api, demo_knowledge, people, sendgrid, django_capture_on_commit_callbacks
):
    ann = people["ann"]
    ann.channels, ann.time_zone = ["email"], "America/New_York"
    local = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    ann.quiet_from = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    ann.quiet_until = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    ann.save()
    lead = post_lead(api, django_capture_on_commit_callbacks)
    alert = Alert.objects.get(lead=lead, recipient=ann)
    assert alert.status == Alert.Status.HELD and sent_emails(sendgrid) == []
    assert timedelta(minutes=58) < alert.not_before - timezone.now() < timedelta(minutes=61)
    alerts_deliver_due(now=timezone.now() + timedelta(minutes=30))
    assert sent_emails(sendgrid) == []
    alerts_deliver_due(now=alert.not_before + timedelta(seconds=1))
    alert.refresh_from_db()
    assert alert.status == Alert.Status.SENT and len(sent_emails(sendgrid)) == 1


def test_a_held_alert_is_not_sent_once_someone_opened_the_item(
    api, demo_knowledge, people, sendgrid, admin_client, django_capture_on_commit_callbacks
):
    ann = people["ann"]
    ann.channels, ann.quiet_from, ann.quiet_until = ["email"], time(0, 0), time(23, 59)
    ann.time_zone = "UTC"
    ann.save()
    lead = post_lead(api, django_capture_on_commit_callbacks)
    admin_client.get(f"/admin/messaging/conversation/{lead.pk}/change/")
    alerts_deliver_due(now=timezone.now() + timedelta(days=1))
    assert Alert.objects.get(lead=lead).status == Alert.Status.CANCELLED and sent_emails(sendgrid) == []


def test_warm_leads_come_in_one_daily_digest_for_those_who_chose_it(
    api, demo_knowledge, people, sendgrid, django_capture_on_commit_callbacks
):
    def alerts_send_digests(now):
        with django_capture_on_commit_callbacks(execute=True):
            return send_digests(now=now)

    ann = people["ann"]
    ann.intents, ann.channels, ann.time_zone, ann.digest_hour = ["hot", "warm"], ["email"], "UTC", 8
    ann.save()
    warm = post_lead(api, django_capture_on_commit_callbacks, message="What do you charge for a small website?")
    assert warm.intent == "warm"
    assert not Alert.objects.filter(lead=warm).exists()  # no alert of its own
    eight = timezone.now().replace(hour=8, minute=3)
    eight += timedelta(days=1) if eight <= timezone.now() else timedelta(0)
    assert alerts_send_digests(now=eight - timedelta(hours=1)) == 0  # not her hour
    assert alerts_send_digests(now=eight) == 1
    assert alerts_send_digests(now=eight + timedelta(minutes=20)) == 0  # once a day
    digest = sent_emails(sendgrid)[-1]
    assert digest["to"] == ["ann@northwind.example"]
    assert f"/admin/messaging/conversation/{warm.pk}/change/" in digest["text"]
    assert "Priya" not in digest["text"] and "charge" not in digest["text"]


def test_people_choose_their_intents_and_channels(
    api, demo_knowledge, people, sendgrid, django_capture_on_commit_callbacks
):
    ann = people["ann"]
    ann.intents, ann.warm_digest, ann.channels = ["warm"], False, ["email"]
    ann.save()
    hot = post_lead(api, django_capture_on_commit_callbacks)
    question = "What do you charge for a small website?"
    warm = post_lead(api, django_capture_on_commit_callbacks, message=question, email="w@x.example", phone="")
    assert not Alert.objects.filter(lead=hot).exists()
    assert Alert.objects.get(lead=warm).kind == Alert.Kind.WARM_LEAD


def test_a_reply_that_asks_to_meet_alerts_as_a_meeting_request(
    client, contacted_lead, people, sendgrid, settings, django_capture_on_commit_callbacks
):
    from messaging.tests.test_conversation import AUTH, email_in

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": AUTH}
    with django_capture_on_commit_callbacks(execute=True):
        email_in(client, "Thanks! Could we have a quick call on Thursday to go through it?")
    alert = Alert.objects.get(lead=contacted_lead, recipient=people["ann"], channel="email")
    assert alert.kind == Alert.Kind.MEETING_REQUEST
    assert "a lead asks to meet" in sent_emails(sendgrid)[-1]["subject"]


def test_an_operator_edits_only_their_own_alert_settings(client, people, django_user_model):
    from django.contrib.auth.models import Group

    operator = django_user_model.objects.create_user("ann", password="pw", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operators"))
    people["ann"].user = operator
    people["ann"].save()
    client.force_login(operator)
    listing = client.get("/admin/alerts/alertrecipient/")
    assert listing.status_code == 200 and "Ann" in listing.text and "Cara" not in listing.text
    url = f"/admin/alerts/alertrecipient/{people['ann'].pk}/change/"
    form = {
        "name": "Ann",
        "email": "ann@northwind.example",
        "phone": "",
        "intents": ["hot"],
        "channels": ["email", "sms"],
        "time_zone": "Mars/Olympus",
        "digest_hour": "8",
        "warm_digest": "on",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "in international form" in refused.text and "is not a time zone name" in refused.text
    saved = client.post(url, {**form, "phone": "+447700900001", "time_zone": "Europe/Paris", "is_admin": "on"})
    assert saved.status_code == 302
    people["ann"].refresh_from_db()
    assert people["ann"].time_zone == "Europe/Paris" and people["ann"].channels == ["email", "sms"]
    assert people["ann"].is_admin is False  # who is told next is the admins' choice
    assert client.get(f"/admin/alerts/alertrecipient/{people['cara'].pk}/change/").status_code == 302


def test_the_hot_count_is_for_logged_in_staff_only(client, admin_client, hot_lead):
    assert client.get("/alerts/hot-count/").status_code == 403
    data = admin_client.get("/alerts/hot-count/").json()
    assert data["hot"] == 1 and data["newest_id"] == Message.objects.get(lead=hot_lead).pk
    assert data["queue_url"].startswith("/admin/messaging/reviewqueueitem/")


@pytest.mark.parametrize("kind", [TeamWebhook.Kind.TEAMS, TeamWebhook.Kind.GOOGLE_CHAT])
def test_teams_and_google_chat_get_their_own_formats_with_the_link_only(
    kind, api, demo_knowledge, people, django_capture_on_commit_callbacks
):
    chat = AnthropicStub().start()
    chat.queue(StubResponse(200, {"name": "spaces/AAA/messages/1"}))
    TeamWebhook.objects.create(name="sales", kind=kind, url=f"{chat.base_url}/hook")
    try:
        lead = post_lead(api, django_capture_on_commit_callbacks)
    finally:
        chat.stop()
    url = f"https://bizpilot.example.com/admin/messaging/conversation/{lead.pk}/change/"
    (posted,) = chat.requests
    if kind == TeamWebhook.Kind.TEAMS:
        card = posted.body["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard"
        assert card["content"]["actions"] == [{"type": "Action.OpenUrl", "title": "Open in BizPilot", "url": url}]
    else:
        assert posted.body == {
            "text": f"*Hot lead waiting: lead #{lead.pk}, from api by email.* <{url}|Open in BizPilot>"
        }
    assert "Priya" not in posted.raw.decode() and "salon" not in posted.raw.decode()
    assert Alert.objects.get(lead=lead, webhook__isnull=False).status == Alert.Status.DELIVERED


def test_a_hot_item_escalates_even_when_those_on_duty_only_watch_the_admin(
    api, demo_knowledge, people, sendgrid, settings, django_capture_on_commit_callbacks
):
    people["ann"].channels = ["browser"]
    people["ann"].save()
    lead = post_lead(api, django_capture_on_commit_callbacks)
    (watching,) = Alert.objects.filter(lead=lead)
    assert (watching.channel, watching.status) == ("browser", Alert.Status.SENT) and sent_emails(sendgrid) == []
    later = timezone.now() + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES, seconds=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate(now=later) == 1
    assert sent_emails(sendgrid)[-1]["to"] == ["ben@northwind.example"]


@pytest.mark.django_db
def test_a_drafted_turn_with_nobody_to_tell_queues_no_job_and_a_new_recipient_is_heard_at_once(monkeypatch):
    from alerts.models import AlertRecipient
    from bizpilot import jobs
    from messaging.signals import turn_drafted

    queued: list[str] = []
    real = jobs.enqueue_on_commit
    monkeypatch.setattr(jobs, "enqueue_on_commit", lambda func, *a, **kw: (queued.append(func), real(func, *a, **kw)))
    AlertRecipient.objects.all().delete()
    TeamWebhook.objects.all().delete()
    signal = {"lead_id": 1, "inbound_id": 1, "message_id": 1, "intent": "hot", "kind": "lead"}
    turn_drafted.send(sender=Message, **signal)
    assert "alerts.tasks.raise_alerts" not in queued  # nobody set up: no job per drafted turn
    AlertRecipient.objects.create(name="Maya", email="maya@example.com", channels=["email"], intents=["hot"])
    turn_drafted.send(sender=Message, **{**signal, "inbound_id": 2})
    assert queued.count("alerts.tasks.raise_alerts") == 1  # the save in this process is seen at once
