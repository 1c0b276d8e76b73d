"""Recording what happened, once, and a delivery of it for every active subscription that wants its type. Called
from the other apps' signals (integrations.apps), inside their transactions: the event and its deliveries commit
with what they describe, or not at all. Delivery is a job (integrations.delivery)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.process_cache import ProcessCached
from integrations.models import EVENT_TYPES, WebhookDelivery, WebhookEvent, WebhookSubscription


def webhook_event_record(*, type: str, key: str, lead_id: int | None, data: dict[str, Any]) -> WebhookEvent | None:
    """Record event `type` (once per `key`) and queue its deliveries; None when it was recorded before."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    subscriptions = [pk for pk, events in listening() if type in events]
    if not subscriptions:
        return None  # nobody listens: nothing to keep
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(type=type, key=key, lead_id=lead_id, data=data)
    except IntegrityError:
        return None  # recorded before (a signal sent twice, a job run twice)
    # Only subscriptions that still exist and are active get a delivery (this process's list may be a few seconds
    # old): a webhook must never make the write it describes fail.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {WebhookDelivery._meta.db_table}
                    (subscription_id, event_id, lead_id, status, attempts, next_attempt_at, last_error, created_at)
                SELECT id, %s, %s, %s, 0, %s, '', %s FROM {WebhookSubscription._meta.db_table}
                WHERE id = ANY(%s) AND is_active""",  # noqa: S608 (our own table names)
            [event.pk, lead_id, WebhookDelivery.Status.PENDING, timezone.now(), timezone.now(), subscriptions],
        )
    enqueue_dispatch()
    return event


_listening = ProcessCached(lambda: list(WebhookSubscription.objects.filter(is_active=True).values_list("pk", "events")))


def listening() -> list[tuple[int, list[str]]]:
    """(id, event types) of the active subscriptions, as this process read them within FLAGS_CACHE_SECONDS: an event
    nobody listens to costs no query (a new subscription hears from every process within that time, from this one at
    once)."""
    return _listening.get()


def subscriptions_changed() -> None:
    """Forget the cached subscriptions (this process saved one)."""
    _listening.forget()


def enqueue_dispatch() -> None:
    jobs.enqueue_once_on_commit("integrations.tasks.dispatch_webhooks", task_name="dispatch_webhooks", group="webhooks")
