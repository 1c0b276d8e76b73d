"""Reads of the alerts app: what the admin's count shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, AlertRecipient
from messaging.models import REVIEW_RANKS, Message


@dataclass(frozen=True)
class HotCount:
    hot: int  # hot drafts waiting for review
    newest_id: int  # the newest of them, so a page tells a new one from one it has seen
    failed_alerts: int  # alerts that failed in the last day
    notify: bool  # this person wants a browser notification


def hot_count(*, user) -> HotCount:
    waiting = Message.objects.filter(status=Message.Status.PENDING_REVIEW, review_rank=REVIEW_RANKS["hot"])
    ids = list(waiting.order_by("-id").values_list("pk", flat=True)[:1])
    failed = Alert.objects.filter(status=Alert.Status.FAILED, failed_at__gte=timezone.now() - timedelta(days=1))
    person = AlertRecipient.objects.filter(user=user).only("channels", "is_active").first()
    notify = person is None or (person.is_active and "browser" in person.channels)
    return HotCount(hot=waiting.count(), newest_id=ids[0] if ids else 0, failed_alerts=failed.count(), notify=notify)
