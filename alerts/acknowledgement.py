"""A person opened a lead's item: the lead's alerts are acknowledged (those not sent yet are not needed any more),
and the first time each person saw the lead is kept for speed-to-lead."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from alerts.models import Alert, LeadView


def lead_open_record(*, lead_id: int, actor: str, at: datetime) -> int:
    """Acknowledge the lead's open alerts as `actor` at `at`; returns how many."""
    if not actor.startswith("user:"):
        return 0
    with transaction.atomic():
        LeadView.objects.bulk_create([LeadView(lead_id=lead_id, viewer=actor, first_seen_at=at)], ignore_conflicts=True)
        waiting = Alert.objects.filter(lead_id=lead_id, status__in=[Alert.Status.PENDING, Alert.Status.HELD])
        cancelled = waiting.update(
            status=Alert.Status.CANCELLED, last_error=f"not needed any more: {actor[5:]} opened the item"
        )
        sent = Alert.objects.filter(
            lead_id=lead_id, status__in=[Alert.Status.SENDING, Alert.Status.SENT, Alert.Status.DELIVERED]
        )
        acknowledged = sent.update(status=Alert.Status.ACKNOWLEDGED, acknowledged_at=at, acknowledged_by=actor)
    return acknowledged + cancelled
