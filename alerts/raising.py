"""Raising alerts: which people and team channels hear about an event, each once per channel, at once or when
their quiet hours end. Delivery is a job per alert (alerts.delivery)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.content import alert_text, sms_text
from alerts.models import Alert, AlertRecipient, TeamWebhook
from bizpilot import jobs
from bizpilot.process_cache import ProcessCached
from leads.models import Lead

log = structlog.get_logger(__name__)

HOT_KINDS = (Alert.Kind.HOT_LEAD, Alert.Kind.HOT_REPLY, Alert.Kind.MEETING_REQUEST)
# The intent a kind of alert is about, for people's and channels' choices.
KIND_INTENT: dict[str, str] = {
    Alert.Kind.HOT_LEAD: "hot",
    Alert.Kind.HOT_REPLY: "hot",
    Alert.Kind.MEETING_REQUEST: "hot",
    Alert.Kind.WARM_LEAD: "warm",
    Alert.Kind.COLD_LEAD: "cold",
}
PERSON_CHANNELS = ("email", "sms")  # sent by a job; the browser's is the admin's own count and notification


def alert_kind(*, kind: str, intent: str) -> str:
    """The alert a drafted turn gives ("" for none): a new lead by its intent; a reply when it asks to meet or
    the lead is hot."""
    if kind == "meeting":
        return Alert.Kind.MEETING_REQUEST
    if kind == "reply":
        return Alert.Kind.HOT_REPLY if intent == "hot" else ""
    return {"hot": Alert.Kind.HOT_LEAD, "warm": Alert.Kind.WARM_LEAD, "cold": Alert.Kind.COLD_LEAD}.get(intent, "")


_anyone = ProcessCached(
    lambda: (
        AlertRecipient.objects.filter(is_active=True).exists() or TeamWebhook.objects.filter(is_active=True).exists()
    )
)


def anyone_to_tell() -> bool:
    """Whether any person or team channel is set up for alerts, as this process read it within
    FLAGS_CACHE_SECONDS: a drafted turn with nobody to tell queues no job."""
    return _anyone.get()


def recipients_changed() -> None:
    _anyone.forget()


def alerts_raise_for_turn(
    *, lead_id: int, inbound_id: int, message_id: int | None, intent: str, kind: str, now: datetime | None = None
) -> list[Alert]:
    """The alerts a drafted turn gives: its on-duty people who chose its intent (on each channel they chose) and the
    team channels that did. Idempotent: the event is the lead's message, and it alerts each person once."""
    alert_kind_ = alert_kind(kind=kind, intent=intent)
    if not alert_kind_:
        return []
    intent_ = KIND_INTENT[alert_kind_]
    people = AlertRecipient.objects.filter(is_active=True, on_duty=True, intents__contains=[intent_])
    if intent_ == "warm":
        people = people.filter(warm_digest=False)  # the others read warm leads in their daily digest
    webhooks = TeamWebhook.objects.filter(is_active=True, intents__contains=[intent_])
    if not people.exists() and not webhooks.exists():
        return []  # nobody to tell: no rows, and no escalation to schedule
    return alerts_raise(
        event=f"inbound:{inbound_id}",
        kind=alert_kind_,
        level=Alert.Level.FIRST,
        lead_id=lead_id,
        message_id=message_id,
        people=people,
        webhooks=webhooks,
        now=now,
    )


def alerts_raise(
    *,
    event: str,
    kind: str,
    level: int,
    lead_id: int,
    message_id: int | None,
    people: Iterable[AlertRecipient],
    webhooks: Iterable[TeamWebhook] = (),
    now: datetime | None = None,
) -> list[Alert]:
    """Record one alert per person and channel (and per team channel) for `event`, held through quiet hours, and
    queue the ones due now. Rows that exist already are kept as they are."""
    now = now or timezone.now()
    lead = Lead.objects.get(pk=lead_id)
    text = alert_text(kind=kind, level=level, lead=lead)
    common = {
        "event": event,
        "kind": kind,
        "level": level,
        "lead_id": lead_id,
        "message_id": message_id,
        "created_at": now,
    }
    rows = []
    for person in people:
        quiet_until = quiet_hours_end(person, now)
        if "browser" in person.channels:
            # The admin's own count and notification: nothing to send, but recorded, so the item escalates and the
            # person's opening of it acknowledges it like any alert.
            rows.append(Alert(**common, recipient=person, channel="browser", status=Alert.Status.SENT, sent_at=now))
        for channel in person.channels:
            if channel not in PERSON_CHANNELS or not (person.email if channel == "email" else person.phone):
                continue
            rows.append(
                Alert(
                    **common,
                    recipient=person,
                    channel=channel,
                    status=Alert.Status.HELD if quiet_until else Alert.Status.PENDING,
                    not_before=quiet_until,
                    subject=text.subject if channel == "email" else "",
                    body=text.body if channel == "email" else sms_text(text),
                )
            )
    for webhook in webhooks:
        rows.append(Alert(**common, webhook=webhook, channel=webhook.kind, subject=text.subject, body=text.body))
    with transaction.atomic():
        Alert.objects.bulk_create(rows, ignore_conflicts=True)
        due = list(Alert.objects.filter(event=event, level=level, status=Alert.Status.PENDING))
        for alert in due:
            enqueue_delivery(alert.pk)
        if rows and kind in HOT_KINDS and level < Alert.Level.ADMINS:
            _schedule_escalation(event, level, now)
    log.info("alerts.raised", alert_event=event, kind=kind, level=level, alerts=len(rows), due=len(due))
    return list(Alert.objects.filter(event=event, level=level))


def _schedule_escalation(event: str, level: int, now: datetime) -> None:
    """Look again when the escalation wait is over (the minutely sweep looks too, should this be lost)."""
    from django_q.models import Schedule

    name = f"escalate-{event}-{level}"
    if not Schedule.objects.filter(name=name).exists():
        run_at = now + timedelta(minutes=settings.ALERT_ESCALATION_MINUTES, seconds=1)
        jobs.schedule_once("alerts.tasks.escalate_alerts", name=name, run_at=run_at)


def enqueue_delivery(alert_id: int) -> None:
    jobs.enqueue_on_commit("alerts.tasks.deliver_alert", alert_id, task_name=f"deliver_alert-{alert_id}")


def quiet_hours_end(person: AlertRecipient, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if they are in them now (in their own time zone); else None."""
    if person.quiet_from is None or person.quiet_until is None or person.quiet_from == person.quiet_until:
        return None
    try:
        zone = ZoneInfo(person.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    start, end, clock = person.quiet_from, person.quiet_until, local.time()
    overnight = start > end  # 22:00-07:00
    quiet = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not quiet:
        return None
    day = local.date() + timedelta(days=1) if overnight and clock >= start else local.date()
    return datetime.combine(day, time(end.hour, end.minute), tzinfo=zone)
