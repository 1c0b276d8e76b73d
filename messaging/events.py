"""Delivery and engagement events from the providers (Twilio status callbacks, anymail tracking webhooks): recorded
once per event id, machine opens and scanner clicks kept but flagged, bounces and complaints suppressing."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.channels import TWILIO_SUPPRESS_CODES, SendResult
from messaging.models import DeliveryEvent, Message, Suppression
from messaging.outcomes import message_stamp_event
from messaging.sequences import STOP_EVENTS, sequences_stop_for_lead
from messaging.signals import message_event
from messaging.suppression import suppression_add


def delivery_event_record(
    *,
    message: Message,
    event_type: str,
    provider: str,
    provider_event_id: str,
    occurred_at: datetime | None,
    payload: dict[str, Any],
    is_machine: bool = False,
    machine_reason: str = "",
) -> DeliveryEvent | None:
    """Record a provider's event once (a replayed event id is ignored: None). `delivered` moves a sent message on."""
    try:
        with transaction.atomic():
            event = DeliveryEvent.objects.create(
                message=message,
                event_type=event_type,
                provider=provider,
                provider_event_id=provider_event_id[:255],
                occurred_at=occurred_at or timezone.now(),
                payload=payload,
                is_machine=is_machine,
                machine_reason=machine_reason[:200],
            )
            if event_type == "delivered":
                Message.objects.filter(pk=message.pk, status=Message.Status.SENT).update(
                    status=Message.Status.DELIVERED, updated_at=timezone.now()
                )
    except IntegrityError:
        return None
    if event_type in ("delivered", "bounced"):
        message_event.send(sender=Message, message_id=message.pk, lead_id=message.lead_id, event=event_type)
    if not is_machine:
        message_stamp_event(message_id=message.pk, event_type=event_type, at=event.occurred_at)
    if event_type in STOP_EVENTS and not is_machine:
        sequences_stop_for_lead(lead_id=message.lead_id, reason=STOP_EVENTS[event_type])
    return event


# Twilio's message statuses as our event types.
TWILIO_EVENTS = {
    "delivered": "delivered",
    "read": "opened",
    "undelivered": "bounced",
    "failed": "failed",
    "sent": "provider_sent",
    "queued": "queued",
    "accepted": "queued",
    "sending": "sending",
}


def twilio_status_receive(*, params: dict[str, str], message_id: str = "") -> DeliveryEvent | None:
    """A Twilio status callback: an event on the message with that SID (unknown SIDs are ignored). The callback
    URL names our message too: a message whose answer we never recorded (its worker died) is recorded as sent."""
    sid, status = params.get("MessageSid") or params.get("SmsSid", ""), params.get("MessageStatus", "")
    message = Message.objects.filter(provider_message_id=sid).first() if sid else None
    if message is None and sid and message_id.isdigit():
        from messaging.reconcile import message_reconcile_found

        message_reconcile_found(
            message_id=int(message_id), result=SendResult(provider="twilio", provider_message_id=sid), actor="twilio"
        )
        message = Message.objects.filter(provider_message_id=sid).first()
    if message is None or not status:
        return None
    code = params.get("ErrorCode", "")
    if code in TWILIO_SUPPRESS_CODES:
        suppression_add(
            address=message.to_address,
            reason=TWILIO_SUPPRESS_CODES[code],
            source=f"twilio:{sid}:{code}",
            actor="twilio",
            payload=params,
        )
    return delivery_event_record(
        message=message,
        event_type=TWILIO_EVENTS.get(status, status),
        provider="twilio",
        provider_event_id=f"{sid}:{status}",
        occurred_at=timezone.now(),
        payload=params,
    )


# Email engagement: what people did, told apart from what machines did (kept, flagged, never counted or acted on).
SCANNER_USER_AGENTS = re.compile(
    r"barracuda|mimecast|proofpoint|symantec|messagelabs|trend ?micro|fireeye|forcepoint|safelinks|"
    r"microsoft office|ms-office|bingpreview|googleimageproxy.*scan|python-requests|curl/|wget/|go-http-client|"
    r"headlesschrome|phantomjs|urlscan|virustotal|cisco|zscaler|sophos|checkpoint|appriver|avanan",
    re.IGNORECASE,
)


SCANNER_CLICK_SECONDS = 10  # a click this soon after delivery is a link scanner, not a reader


LINK_BURST_SECONDS = 2  # several different links clicked within this is a scanner following every link


EMAIL_EVENT_SUPPRESSES = {
    "bounced": Suppression.Reason.BOUNCED,
    "complained": Suppression.Reason.COMPLAINED,
    "unsubscribed": Suppression.Reason.UNSUBSCRIBED,
}


def email_event_receive(*, event: Any, esp_name: str) -> DeliveryEvent | None:
    """An anymail tracking event (delivered, opened, clicked, bounced, ...) on the message it belongs to."""
    message = _message_for_email_event(event)
    if message is None:
        return None
    event_type = str(event.event_type)
    occurred_at = event.timestamp or timezone.now()
    is_machine, reason = _machine_engagement(message, event_type, event, occurred_at)
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    event_id = (
        event.event_id
        or hashlib.sha256(
            f"{event_type}|{event.message_id}|{occurred_at.isoformat()}|{event.click_url or ''}".encode()
        ).hexdigest()
    )
    recorded = delivery_event_record(
        message=message,
        event_type=event_type,
        provider=esp_name.lower(),
        provider_event_id=str(event_id),
        occurred_at=occurred_at,
        payload={
            "recipient": event.recipient,
            "url": event.click_url,
            "user_agent": event.user_agent,
            "reject_reason": event.reject_reason,
            "mta_response": event.mta_response,
            "esp_event": raw,
        },
        is_machine=is_machine,
        machine_reason=reason,
    )
    if recorded is not None and event_type == "clicked" and not is_machine:
        _flag_link_burst(recorded)
    suppress = EMAIL_EVENT_SUPPRESSES.get(event_type)
    if event_type == "rejected" and str(event.reject_reason) in {"bounced", "invalid"}:
        suppress = Suppression.Reason.BOUNCED
    if recorded is not None and suppress:
        suppression_add(
            address=event.recipient or message.to_address,
            reason=suppress,
            source=f"{esp_name.lower()}:{event_type}",
            actor=f"email:{esp_name.lower()}",
            payload={"event_id": str(event_id)},
        )
    return recorded


def _message_for_email_event(event: Any) -> Message | None:
    ours = (event.metadata or {}).get("bizpilot_message_id")
    if ours and str(ours).isdigit():
        message = Message.objects.filter(pk=int(ours)).first()
        if message is not None:
            return message
    if event.message_id:
        return Message.objects.filter(provider_message_id=str(event.message_id)).first()
    return None


def _machine_engagement(message: Message, event_type: str, event: Any, occurred_at: datetime) -> tuple[bool, str]:
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    agent = event.user_agent or ""
    if event_type == "opened":
        if raw.get("sg_machine_open") in (True, "true", 1):
            return True, "the ESP flagged a machine open (e.g. Apple Mail Privacy Protection)"
        if SCANNER_USER_AGENTS.search(agent):
            return True, f"a security scanner's user agent ({agent[:80]})"
    if event_type == "clicked":
        if SCANNER_USER_AGENTS.search(agent):
            return True, f"a security scanner's user agent ({agent[:80]})"
        arrived = message.events.filter(event_type__in=["delivered", "sent"]).order_by("-occurred_at").first()
        if arrived and timedelta(0) <= occurred_at - arrived.occurred_at < timedelta(seconds=SCANNER_CLICK_SECONDS):
            return True, f"clicked {(occurred_at - arrived.occurred_at).total_seconds():.0f} s after delivery"
    return False, ""


def _flag_link_burst(click: DeliveryEvent) -> None:
    """Different links of one message clicked within seconds of each other: a scanner following every link."""
    window = timedelta(seconds=LINK_BURST_SECONDS)
    burst = DeliveryEvent.objects.filter(
        message_id=click.message_id,
        event_type="clicked",
        occurred_at__gte=click.occurred_at - window,
        occurred_at__lte=click.occurred_at + window,
    )
    urls = {e.payload.get("url") for e in burst}
    if len(urls) >= 2:
        burst.filter(is_machine=False).update(is_machine=True, machine_reason=f"{len(urls)} links clicked at once")
