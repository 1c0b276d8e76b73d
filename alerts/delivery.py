"""Delivering an alert, as `message_send` delivers a message: claim the row in a short transaction, send outside
any transaction, record the outcome. A channel that fails for now is retried with backoff, then shown as failed
(the admin's alert list, and the count on every admin page)."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from alerts.content import AlertText, item_url
from alerts.models import Alert
from alerts.team_webhooks import team_post
from messaging.channels import (
    AmbiguousSendError,
    PermanentSendError,
    SendResult,
    TransientSendError,
    classify_email_error,
    get_channel,
)

log = structlog.get_logger(__name__)
STUCK_SENDING = timedelta(minutes=5)


def alert_deliver(*, alert_id: int, now: datetime | None = None) -> Alert:
    """Send one alert that is due. Idempotent: an alert sent, failed, acknowledged or held is returned as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update(of=("self",)).select_related("recipient", "webhook").get(pk=alert_id)
        if alert.status != Alert.Status.PENDING or (alert.not_before and alert.not_before > now):
            return alert
        if alert.level == Alert.Level.FIRST and _answered(alert):
            alert.status = Alert.Status.CANCELLED
            alert.last_error = "not needed any more: a person opened the item first"
            alert.save(update_fields=["status", "last_error"])
            return alert
        alert.status = Alert.Status.SENDING
        alert.attempts += 1
        alert.save(update_fields=["status", "attempts"])
    try:
        result = _send(alert)
    except (TransientSendError, PermanentSendError, AmbiguousSendError) as exc:
        return _failed(alert.pk, exc, now)
    except Exception as exc:  # an unexpected error is recorded (and retried): the alert is never lost silently
        log.exception("alert.error", alert_id=alert.pk)
        return _failed(alert.pk, TransientSendError(f"{type(exc).__name__}: {exc}"), now)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        alert.sent_at = timezone.now()
        alert.provider_message_id = result.provider_message_id
        # A team webhook that answers 2xx has posted the message in the channel: delivered.
        alert.status = Alert.Status.DELIVERED if alert.webhook_id else Alert.Status.SENT
        alert.delivered_at = alert.sent_at if alert.webhook_id else None
        alert.last_error = ""
        alert.save(update_fields=["sent_at", "provider_message_id", "status", "delivered_at", "last_error"])
    log.info("alert.sent", alert_id=alert.pk, channel=alert.channel, kind=alert.kind, level=alert.level)
    return alert


def _answered(alert: Alert) -> bool:
    """A held alert whose item a person opened meanwhile (its event acknowledged) is not needed any more."""
    return Alert.objects.filter(event=alert.event, status=Alert.Status.ACKNOWLEDGED).exists()


def _send(alert: Alert) -> SendResult:
    if alert.webhook is not None:
        text = AlertText(subject=alert.subject, body=alert.body, url=item_url(alert.lead_id) if alert.lead_id else "")
        return team_post(webhook=alert.webhook, text=text)
    assert alert.recipient is not None
    if alert.channel == "sms":
        callback = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/alert-status/?alert={alert.pk}"
        return get_channel("sms").send_text(to=alert.recipient.phone, body=alert.body, status_callback=callback)
    email = EmailMultiAlternatives(
        subject=alert.subject, body=alert.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[alert.recipient.email]
    )
    # anymail carries the metadata through to its tracking webhook: the delivery event finds this alert.
    email.metadata = {"bizpilot_alert_id": str(alert.pk)}  # type: ignore[attr-defined]
    email.tags = ["bizpilot-alert"]  # type: ignore[attr-defined]
    try:
        email.send(fail_silently=False)
    except Exception as exc:
        raise classify_email_error(exc) from exc
    status = getattr(email, "anymail_status", None)
    provider_id = status.message_id if status is not None and status.message_id else ""
    return SendResult(provider="email", provider_message_id=str(provider_id or ""))


def _failed(alert_id: int, exc: Exception, now: datetime) -> Alert:
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        alert.last_error = str(exc)[:2000]
        if isinstance(exc, AmbiguousSendError):
            # It may have arrived: sending again could alert the person twice. Shown, not retried.
            alert.status, alert.failed_at = Alert.Status.FAILED, timezone.now()
        elif isinstance(exc, TransientSendError) and alert.attempts < settings.ALERT_MAX_ATTEMPTS:
            alert.status = Alert.Status.PENDING
            alert.not_before = now + timedelta(seconds=settings.ALERT_RETRY_SECONDS * 2 ** (alert.attempts - 1))
        else:
            alert.status, alert.failed_at = Alert.Status.FAILED, timezone.now()
        alert.save(update_fields=["last_error", "status", "not_before", "failed_at"])
    log.warning("alert.failed", alert_id=alert_id, status=alert.status, error=alert.last_error)
    return alert


def alerts_deliver_due(*, now: datetime | None = None) -> int:
    """The sweep: deliver alerts whose quiet hours or retry wait ended (and any whose job was lost), and show as
    failed the ones a dead worker left `sending`. Returns how many were delivered or tried."""
    now = now or timezone.now()
    stuck = Alert.objects.filter(status=Alert.Status.SENDING, created_at__lt=now - STUCK_SENDING)
    stuck.update(
        status=Alert.Status.FAILED,
        failed_at=now,
        last_error="the worker sending it stopped: it may or may not have arrived",
    )
    held = Alert.objects.filter(status=Alert.Status.HELD, not_before__lte=now)
    held.update(status=Alert.Status.PENDING)
    due = Alert.objects.filter(status=Alert.Status.PENDING, created_at__lte=now - timedelta(seconds=30))
    due = due.exclude(not_before__gt=now)
    count = 0
    for alert_id in due.values_list("pk", flat=True)[:500]:
        alert_deliver(alert_id=alert_id, now=now)
        count += 1
    return count


def alert_delivery_event(*, alert_id: str, event_type: str, at: datetime, detail: str = "") -> Alert | None:
    """A provider's delivery report on an alert (anymail tracking, a Twilio status callback)."""
    if not alert_id.isdigit():
        return None
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=int(alert_id)).first()
        if alert is None:
            return None
        if event_type == "delivered" and alert.status in (Alert.Status.SENT, Alert.Status.SENDING):
            alert.status, alert.delivered_at = Alert.Status.DELIVERED, at
        elif event_type in ("bounced", "rejected", "failed", "undelivered") and alert.status != Alert.Status.FAILED:
            alert.status, alert.failed_at = Alert.Status.FAILED, at
            alert.last_error = f"{event_type}: {detail}".strip(": ")[:2000]
        else:
            return alert
        alert.save(update_fields=["status", "delivered_at", "failed_at", "last_error"])
    return alert
