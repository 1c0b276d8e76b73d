"""Reads of leads reused by other apps and by the admin."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from leads.models import InboundMessage, Lead

# A lead whose processing started longer ago than this is assumed abandoned (a worker died) and may be re-claimed.
PROCESSING_LEASE = timedelta(minutes=10)


def leads_left_behind(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Ids of leads the pipeline should have finished: waiting in `received` or `classified` for longer than
    `older_than` (their job never ran or failed; at most five attempts, imported leads only when asked), or held
    in `processing` past the lease (the worker died)."""
    cutoff = timezone.now() - older_than
    waiting = list(
        Lead.objects.filter(state__in=[Lead.State.RECEIVED, Lead.State.CLASSIFIED], updated_at__lt=cutoff)
        .filter(processing_attempts__lt=5, auto_process=True)
        .values_list("pk", flat=True)[:limit]
    )
    abandoned = list(
        Lead.objects.filter(
            state=Lead.State.PROCESSING, processing_started_at__lt=timezone.now() - PROCESSING_LEASE
        ).values_list("pk", flat=True)[:limit]
    )
    return waiting + abandoned


def latest_inbound(*, lead_id: int) -> InboundMessage | None:
    """The lead's most recent message to us: the one a reply answers."""
    return InboundMessage.objects.filter(lead_id=lead_id).order_by("-received_at", "-id").first()
