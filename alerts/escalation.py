"""Escalation: a hot item nobody opened within ALERT_ESCALATION_MINUTES of its alert tells the next person on the
escalation list, and as long again later the admins. An item stops escalating once a person opens it or its draft
is no longer waiting for review (approved, sent on its own, rejected)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from alerts.models import Alert, AlertRecipient
from alerts.raising import HOT_KINDS, alerts_raise
from messaging.models import Message

LOOK_BACK = timedelta(days=1)  # hot items older than this have long been seen (or escalated to the end)


def alerts_escalate_due(*, now: datetime | None = None) -> int:
    """Raise the next level of every hot event that waited long enough at its level; returns how many events."""
    now = now or timezone.now()
    wait = timedelta(minutes=settings.ALERT_ESCALATION_MINUTES)
    events = (
        Alert.objects.filter(kind__in=HOT_KINDS, created_at__gte=now - LOOK_BACK)
        .values("event")
        .annotate(
            level=Max("level"),
            raised_at=Max("created_at"),
            first_at=Min("created_at"),
            acknowledged=Count("id", filter=Q(status=Alert.Status.ACKNOWLEDGED)),
        )
        .filter(level__lt=Alert.Level.ADMINS, acknowledged=0, raised_at__lte=now - wait)
    )
    escalated = 0
    for row in events:
        first = Alert.objects.filter(event=row["event"], level=row["level"]).order_by("id").first()
        if first is None or first.lead_id is None or not _still_waiting(first):
            continue
        told = {pk for pk in Alert.objects.filter(event=row["event"]).values_list("recipient_id", flat=True) if pk}
        level, people = _next_level(row["level"], told)
        if not people:
            continue
        alerts_raise(
            event=row["event"],
            kind=first.kind,
            level=level,
            lead_id=first.lead_id,
            message_id=first.message_id,
            people=people,
            now=now,
        )
        escalated += 1
    return escalated


def _still_waiting(alert: Alert) -> bool:
    if alert.message_id is None:
        return True
    return Message.objects.filter(pk=alert.message_id, status=Message.Status.PENDING_REVIEW).exists()


def _next_level(level: int, told: set[int]) -> tuple[int, list[AlertRecipient]]:
    """The next person on the list after those on duty (one), or, after them, the admins (all of them)."""
    hot = AlertRecipient.objects.filter(is_active=True, intents__contains=["hot"]).exclude(pk__in=told)
    if level == Alert.Level.FIRST:
        following = hot.filter(on_duty=False, is_admin=False).order_by("escalation_order", "pk").first()
        if following is not None:
            return Alert.Level.NEXT, [following]
    return Alert.Level.ADMINS, list(AlertRecipient.objects.filter(is_active=True, is_admin=True).exclude(pk__in=told))
