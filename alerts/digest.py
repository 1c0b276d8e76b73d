"""The daily digest: people who chose warm leads in one email get, at their own local hour, one email listing the
warm leads that arrived since their last digest (links, no personal data). Once per person and local day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from alerts.content import item_url
from alerts.models import Alert, AlertRecipient
from alerts.raising import enqueue_delivery
from bizpilot.business import business
from leads.models import Lead


def alerts_send_digests(*, now: datetime | None = None) -> int:
    """Record and queue the digests due this hour; returns how many."""
    now = now or timezone.now()
    people = AlertRecipient.objects.filter(
        is_active=True, warm_digest=True, intents__contains=["warm"], channels__contains=["email"]
    ).exclude(email="")
    made = 0
    for person in people:
        try:
            local = now.astimezone(ZoneInfo(person.time_zone))
        except (ZoneInfoNotFoundError, ValueError):
            local = now
        if local.hour != person.digest_hour:
            continue
        event = f"digest:{local.date().isoformat()}"
        if Alert.objects.filter(event=event, recipient=person).exists():
            continue
        last = Alert.objects.filter(recipient=person, kind=Alert.Kind.DIGEST).order_by("-created_at").first()
        since = last.created_at if last else now - timedelta(days=1)
        warm = list(
            Lead.objects.filter(intent="warm", created_at__gte=since, created_at__lt=now, erased_at__isnull=True)
            .order_by("created_at")
            .values_list("pk", "source", "created_at")[:200]
        )
        if not warm:
            continue
        lines = [f"{len(warm)} warm lead{'s' if len(warm) != 1 else ''} since your last digest:"]
        lines += [f"- lead #{pk}, from {source}, {at:%d %b %H:%M}: {item_url(pk)}" for pk, source, at in warm]
        with transaction.atomic():
            alert, created = Alert.objects.get_or_create(
                event=event,
                recipient=person,
                channel="email",
                defaults={
                    "kind": Alert.Kind.DIGEST,
                    "subject": f"{business().name}: {len(warm)} warm leads today",
                    "body": "\n".join(lines),
                },
            )
            if created:
                enqueue_delivery(alert.pk)
                made += 1
    return made
