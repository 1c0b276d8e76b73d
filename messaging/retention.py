"""Retention: what is kept only for a while (RETENTION_DAYS). The providers' raw payloads of inbound messages and
the prompts and responses of model calls are dropped once older; the rest (the conversation, counts and costs)
stays. Idempotency-Keys past IDEMPOTENCY_KEY_TTL_HOURS are released (their messages stay). Run daily by the
django-q2 schedule `purge_expired` and by `manage.py purge_expired`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from intelligence.erasure import model_call_bodies_purge
from leads.erasure import inbound_payloads_purge
from leads.ingest import idempotency_keys_expire


def expired_data_purge(*, days: int | None = None) -> dict[str, int]:
    """Drop what is past its retention. Returns how many rows of each kind changed."""
    older_than = timedelta(days=days if days is not None else settings.RETENTION_DAYS)
    return {
        "inbound_raw_payloads": inbound_payloads_purge(older_than=older_than),
        "model_call_bodies": model_call_bodies_purge(older_than=older_than),
        "idempotency_keys": idempotency_keys_expire(),
    }
