"""Outbound channels. Email goes through Django's email API (django-anymail in production); SMS and WhatsApp use a
development channel that records what would be sent until the Twilio channel is configured."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    channel: str
    to_address: str
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str


class PermanentSendError(Exception):
    """The provider refused the message for good (bad address, rejected content); retrying will not help."""


class EmailChannel:
    provider_name = "email"

    def send(self, outbound: OutboundMessage) -> SendResult:
        domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "bizpilot.local"
        message_id_header = f"<bizpilot-{outbound.message_id}-{uuid.uuid4().hex[:12]}@{domain}>"
        email = EmailMultiAlternatives(
            subject=outbound.subject,
            body=outbound.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[outbound.to_address],
            headers={"Message-ID": message_id_header},
        )
        # anymail ESPs carry metadata through to their tracking webhooks; other backends ignore the attributes.
        email.metadata = {"bizpilot_message_id": str(outbound.message_id)}
        email.tags = ["bizpilot-reply"]
        sent = email.send(fail_silently=False)
        if sent != 1:
            raise RuntimeError(f"the email backend reported {sent} messages sent")
        status = getattr(email, "anymail_status", None)
        provider_id = status.message_id if status is not None and status.message_id else message_id_header
        backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] if "anymail" in settings.EMAIL_BACKEND else "django"
        return SendResult(provider=f"email:{backend}", provider_message_id=str(provider_id))


class DevelopmentTextChannel:
    """Records SMS/WhatsApp messages in the log instead of sending them (no provider configured)."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, outbound: OutboundMessage) -> SendResult:
        provider_id = f"dev-{self.channel}-{uuid.uuid4().hex}"
        logger.warning(
            "development %s channel: not sent, recorded only | to=%s | %s",
            self.channel,
            outbound.to_address,
            outbound.body,
        )
        return SendResult(provider=f"{self.channel}:development", provider_message_id=provider_id)


_channels: dict[str, object] = {}
_lock = threading.Lock()


def get_channel(name: str):
    """The process's channel for `email`, `sms` or `whatsapp`."""
    with _lock:
        if name not in _channels:
            if name == "email":
                _channels[name] = EmailChannel()
            elif name in {"sms", "whatsapp"}:
                _channels[name] = DevelopmentTextChannel(name)
            else:
                raise ValueError(f"unknown channel {name!r}")
        return _channels[name]
