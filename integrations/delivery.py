"""Delivering webhooks: at least once, signed as the Standard Webhooks specification says (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, with the `standardwebhooks` package), the same `webhook-id` on every retry.

- **Order per lead.** A subscription's deliveries for one lead go out one at a time, oldest first: a delivery waits
  while an older one of the same lead is still pending. Deliveries of different leads do not wait for each other.
- **Retries.** A failure (no answer, a non-2xx status) is tried again after 30 s, then twice as long each time (at
  most 2 hours apart), for 24 hours from the first attempt.
- **A subscription that keeps failing** (a delivery that failed for 24 hours, or a 410 Gone) is disabled and the
  admins are told by email; what it had not received stays pending, and "send again" or enabling it resumes it.
- Each attempt is logged: the request body, the status code, the answer's start and the time taken.

The claim is a short transaction that pushes the delivery's next attempt past a lease, so two dispatchers never
send the same delivery at once; the POST happens outside any transaction."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import requests
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from bizpilot.audit import audit_record
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.payloads import webhook_body

log = structlog.get_logger(__name__)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
LEASE = timedelta(minutes=2)


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY_GAP)


def due_deliveries(now: datetime):
    """The deliveries that may go out now: pending, due, of an active subscription, and the oldest pending one of
    their lead for that subscription."""
    older = WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        lead_id=OuterRef("lead_id"),
        status=WebhookDelivery.Status.PENDING,
        id__lt=OuterRef("id"),
    )
    return (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        .exclude(Exists(older))
        .order_by("id")
    )


def webhooks_dispatch(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Deliver everything due, in order per lead (a delivered one lets its lead's next go at once). Returns how many
    attempts were made."""
    now = now or timezone.now()
    made = 0
    with requests.Session() as session:  # one kept-alive connection per receiver for the whole run
        while made < limit:
            batch = list(due_deliveries(now).values_list("pk", flat=True)[:100])
            if not batch:
                break
            for delivery_id in batch:
                if webhook_deliver(delivery_id=delivery_id, now=now, session=session) is not None:
                    made += 1
    return made


def webhook_deliver(
    *, delivery_id: int, now: datetime | None = None, session: requests.Session | None = None
) -> WebhookDelivery | None:
    """One attempt of one delivery, if it is still due (None: taken by another dispatcher, or not due)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription", "event")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None or not delivery.subscription.is_active:
            return None
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "first_attempt_at", "next_attempt_at"])
    subscription, event = delivery.subscription, delivery.event
    body = webhook_body(event, subscription)
    signed_at = timezone.now()  # the receiver checks the signature's time against its own clock
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "BizPilot-Webhooks/1",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(subscription.secret).sign(event.event_id, signed_at, body),
    }
    started = time.monotonic()
    status_code, answer, error = None, "", ""
    try:
        response = (session or requests).post(
            subscription.url,
            data=body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status_code, answer = response.status_code, response.text[:1000]
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    duration = int((time.monotonic() - started) * 1000)
    return _record(delivery.pk, now, body, status_code, answer, error, duration)


def _record(
    delivery_id: int, now: datetime, body: str, status_code: int | None, answer: str, error: str, duration: int
) -> WebhookDelivery:
    delivered = status_code is not None and 200 <= status_code < 300
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery_id)
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            request_body=body,
            status_code=status_code,
            response_body=answer,
            duration_ms=duration,
            error=error,
        )
        delivery.last_status_code, delivery.last_error = status_code, error or ("" if delivered else answer[:500])
        if delivered:
            delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, now
        elif status_code == 410:
            delivery.next_attempt_at = now
            _disable(delivery.subscription, "the receiver answered 410 Gone: it no longer wants these webhooks")
        elif now - (delivery.first_attempt_at or now) >= GIVE_UP_AFTER:
            delivery.status = WebhookDelivery.Status.FAILED
            _disable(delivery.subscription, f"a delivery kept failing for 24 hours (last: {status_code or error})")
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save()
    if delivered:
        log.info("webhook.delivered", delivery_id=delivery_id, attempts=delivery.attempts)
    else:
        log.warning("webhook.failed_attempt", delivery_id=delivery_id, status=status_code, error=error[:200])
    return delivery


def _disable(subscription: WebhookSubscription, reason: str) -> None:
    if not subscription.is_active:
        return
    subscription.is_active, subscription.disabled_at, subscription.disabled_reason = False, timezone.now(), reason
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    audit_record(
        actor="system:webhooks", action="webhook_subscription.disabled", obj=subscription, after={"reason": reason}
    )
    from bizpilot import jobs

    jobs.enqueue_on_commit(
        "integrations.tasks.tell_admins_disabled", subscription.pk, task_name=f"webhook_disabled-{subscription.pk}"
    )


def webhook_delivery_send_again(*, delivery_id: int, actor: str) -> WebhookDelivery:
    """A person asks for a delivery again (after a failure, or to replay one): pending now, a fresh 24 hours."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.status, delivery.next_attempt_at, delivery.first_attempt_at = (
            WebhookDelivery.Status.PENDING,
            timezone.now(),
            None,
        )
        delivery.save(update_fields=["status", "next_attempt_at", "first_attempt_at"])
        audit_record(actor=actor, action="webhook_delivery.send_again", obj=delivery)
    from integrations.events import enqueue_dispatch

    enqueue_dispatch()
    return delivery


def webhook_subscription_enable(*, subscription_id: int, actor: str) -> WebhookSubscription:
    """Turn a disabled subscription back on: what it missed goes out, in order."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
        subscription.is_active, subscription.disabled_at, subscription.disabled_reason = True, None, ""
        subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
        WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.FAILED).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now(), first_attempt_at=None
        )
        audit_record(actor=actor, action="webhook_subscription.enabled", obj=subscription)
    from integrations.events import enqueue_dispatch

    enqueue_dispatch()
    return subscription
