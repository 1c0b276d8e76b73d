"""Outbound channels. Email goes through Django's email API (django-anymail in production); SMS and WhatsApp go
through the `twilio` client when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set, else through a development
channel that records what would be sent.

A channel raises TransientSendError when the provider certainly did not take the message and a later try may work
(connection refused, 429, 5xx), and PermanentSendError when it refused the message for good. Anything else (a read
timeout, say) raises AmbiguousSendError: the message stays `sending` and is looked up later (messaging.reconcile),
never resent blindly."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives

from bizpilot.business import business

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundMessage:
    message_id: int
    channel: str
    to_address: str
    subject: str
    body: str
    content_sid: str = ""  # WhatsApp: an approved content template sent instead of the body
    content_variables: dict[str, str] | None = None
    # Email threading (leads.threads): our Message-ID, the message it answers and the thread's ids, the lead's
    # signed reply address.
    email_message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    reply_to: str = ""
    calendar_invite: str = ""  # an iCalendar invitation (meetings.invites) the email carries as invite.ics


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str


UNSUBSCRIBE_SALT = "bizpilot.unsubscribe"

# Twilio error codes that mean "never write to this number again" (sending errors and status callbacks alike).
TWILIO_SUPPRESS_CODES = {
    "21610": "stop",
    "21211": "bounced",
    "21614": "bounced",
    "30005": "bounced",
    "30006": "bounced",
}


def unsubscribe_token(address: str) -> str:
    return signing.dumps(address.strip().lower(), salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_address(token: str) -> str:
    """The address a token was made for; raises django.core.signing.BadSignature for a forged or cut token."""
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(address: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/unsubscribe/{unsubscribe_token(address)}/"


class PermanentSendError(Exception):
    """The provider refused the message for good (bad address, rejected content); retrying will not help."""

    def __init__(self, reason: str, *, suppress: str = ""):
        super().__init__(reason)
        self.suppress = suppress  # a Suppression reason when the address itself is the problem


class TransientSendError(Exception):
    """The provider did not take the message this time (unreachable, rate limited, 5xx); try again later."""


class AmbiguousSendError(Exception):
    """The provider did not answer in time: it may have the message or not. Never retried blindly: the message
    stays `sending` for the reconciler (messaging.reconcile) to look up, or for a person."""


class EmailChannel:
    provider_name = "email"

    def send(self, outbound: OutboundMessage) -> SendResult:
        domain = business().email_domain
        message_id_header = (
            outbound.email_message_id or f"<bizpilot-{outbound.message_id}-{uuid.uuid4().hex[:12]}@{domain}>"
        )
        unsubscribe = unsubscribe_url(outbound.to_address)
        headers = {
            "Message-ID": message_id_header,
            # RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if outbound.in_reply_to:  # RFC 5322 threading: mail clients show the answer under what it answers
            headers["In-Reply-To"] = outbound.in_reply_to
            headers["References"] = outbound.references or outbound.in_reply_to
        email = EmailMultiAlternatives(
            subject=outbound.subject,
            body=f"{outbound.body}\n\n--\nTo stop receiving emails from {business().name}: {unsubscribe}",
            from_email=business().from_email,
            to=[outbound.to_address],
            reply_to=[outbound.reply_to] if outbound.reply_to else None,
            headers=headers,
        )
        if outbound.calendar_invite:  # mail clients offer "add to calendar" for a text/calendar attachment
            email.attach("invite.ics", outbound.calendar_invite, "text/calendar")
        # anymail ESPs carry metadata through to their tracking webhooks; other backends ignore the attributes.
        email.metadata = {"bizpilot_message_id": str(outbound.message_id)}  # type: ignore[attr-defined]
        email.tags = ["bizpilot-reply"]  # type: ignore[attr-defined]
        try:
            sent = email.send(fail_silently=False)
        except Exception as exc:
            raise classify_email_error(exc) from exc
        if sent != 1:
            raise RuntimeError(f"the email backend reported {sent} messages sent")
        status = getattr(email, "anymail_status", None)
        provider_id = status.message_id if status is not None and status.message_id else message_id_header
        backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] if "anymail" in settings.EMAIL_BACKEND else "django"
        return SendResult(provider=f"email:{backend}", provider_message_id=str(provider_id))


def classify_email_error(exc: Exception) -> Exception:
    """An email backend's exception as a TransientSendError, PermanentSendError or AmbiguousSendError (or itself)."""
    import requests

    try:
        from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
    except ImportError:  # pragma: no cover - anymail is a dependency
        return exc
    if isinstance(exc, AnymailRecipientsRefused):
        return PermanentSendError(f"the email provider refused the recipient: {exc}", suppress="bounced")
    if isinstance(exc, AnymailRequestsAPIError):
        status = exc.status_code
        if status is not None:
            if status == 429 or status >= 500:
                return TransientSendError(f"email provider HTTP {status}: {exc}")
            return PermanentSendError(f"email provider HTTP {status}: {exc}")
        if isinstance(exc.__cause__, requests.Timeout) and not isinstance(exc.__cause__, requests.ConnectTimeout):
            return AmbiguousSendError(f"the email provider did not answer in time: {exc.__cause__}")
        if isinstance(exc.__cause__, requests.ConnectionError):
            return TransientSendError(f"email provider unreachable: {exc.__cause__}")
    return exc


class TwilioChannel:
    """SMS and WhatsApp through the official `twilio` client. Delivery comes back through the status callback."""

    def __init__(self, channel: str):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        class HttpClient(TwilioHttpClient):
            # TWILIO_API_BASE_URL replaces https://api.twilio.com (a proxy, or a local stub in tests).
            def request(self, method, url, *args, **kwargs):
                if settings.TWILIO_API_BASE_URL:
                    url = url.replace("https://api.twilio.com", settings.TWILIO_API_BASE_URL.rstrip("/"), 1)
                return super().request(method, url, *args, **kwargs)

        self.channel = channel
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=HttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS),
        )

    def send(self, outbound: OutboundMessage) -> SendResult:
        to, sender = self._addresses(outbound)
        content: dict[str, str] = {"body": outbound.body}
        if outbound.content_sid:  # an approved template: WhatsApp outside the 24-hour window
            content = {
                "content_sid": outbound.content_sid,
                "content_variables": json.dumps(outbound.content_variables or {}),
            }
        # Our id rides along: a callback for a message whose answer we never recorded still finds it.
        callback = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/twilio/status/?message={outbound.message_id}"
        return self._create(to=to, from_=sender, status_callback=callback, **content)

    def send_text(self, *, to: str, body: str, status_callback: str) -> SendResult:
        """A plain text to `to` from the business's number (an alert to a person on duty, say)."""
        return self._create(to=to, from_=settings.TWILIO_FROM_NUMBER, status_callback=status_callback, body=body)

    def _create(self, **params: str) -> SendResult:
        import requests
        from twilio.base.exceptions import TwilioRestException

        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            reason = f"Twilio {exc.status} error {exc.code}: {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(reason) from exc
            suppress = TWILIO_SUPPRESS_CODES.get(str(exc.code or ""), "")
            raise PermanentSendError(reason, suppress=suppress) from exc
        except requests.ConnectTimeout as exc:  # never connected: Twilio certainly has nothing
            raise TransientSendError(f"Twilio unreachable: {exc}") from exc
        except requests.Timeout as exc:  # the request may have arrived: not safe to retry blindly
            raise AmbiguousSendError(f"Twilio did not answer in time: {exc}") from exc
        except requests.ConnectionError as exc:
            raise TransientSendError(f"Twilio unreachable: {exc}") from exc
        return SendResult(provider="twilio", provider_message_id=message.sid)

    def find_sent(self, outbound: OutboundMessage, *, since: datetime) -> SendResult | None:
        """Ask Twilio whether it has this message (a worker died after handing it over): its recent messages to
        the recipient from our number, matched by text (or template). None: Twilio has no such message."""
        to, sender = self._addresses(outbound)
        window_start = since - timedelta(minutes=5)
        for found in self.client.messages.list(to=to, from_=sender, limit=50):
            created = found.date_created
            if created is not None and created < window_start:
                continue
            if (outbound.content_sid and outbound.content_sid in str(found.body or "")) or (
                (found.body or "").strip() == outbound.body.strip()
            ):
                return SendResult(provider="twilio", provider_message_id=found.sid)
        return None

    def _addresses(self, outbound: OutboundMessage) -> tuple[str, str]:
        if self.channel == "whatsapp":
            return f"whatsapp:{outbound.to_address}", f"whatsapp:{settings.TWILIO_WHATSAPP_FROM}"
        return outbound.to_address, settings.TWILIO_FROM_NUMBER


class DevelopmentTextChannel:
    """Records SMS/WhatsApp messages in the log instead of sending them (no provider configured)."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, outbound: OutboundMessage) -> SendResult:
        return self.send_text(to=outbound.to_address, body=outbound.body, status_callback="")

    def send_text(self, *, to: str, body: str, status_callback: str) -> SendResult:
        provider_id = f"dev-{self.channel}-{uuid.uuid4().hex}"
        logger.warning("development %s channel: not sent, recorded only | to=%s | %s", self.channel, to, body)
        return SendResult(provider=f"{self.channel}:development", provider_message_id=provider_id)


_channels: dict[tuple, object] = {}
_lock = threading.Lock()


def get_channel(name: str):
    """The process's channel for `email`, `sms` or `whatsapp` (made again when the Twilio settings change)."""
    twilio = bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)
    key = (
        (name, twilio, settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_TIMEOUT_SECONDS)
        if name != "email"
        else (name,)
    )
    with _lock:
        if key not in _channels:
            if name == "email":
                _channels[key] = EmailChannel()
            elif name in {"sms", "whatsapp"}:
                _channels[key] = TwilioChannel(name) if twilio else DevelopmentTextChannel(name)
            else:
                raise ValueError(f"unknown channel {name!r}")
        return _channels[key]
