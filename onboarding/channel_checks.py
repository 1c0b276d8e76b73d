"""The setup's channel step: where each provider should post (with the address to copy), a test email and a test
SMS to the owner through the real sending path, and a check that a request signed as the provider signs it (with
the secret configured here) is accepted by BizPilot's own webhook. That last check runs the webhook in this process:
it proves the secret and the address agree, not that the provider can reach the server. Typeform is checked for
each active Typeform integration."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse

from bizpilot.business import business
from bizpilot.errors import ValidationFailed
from messaging.channels import get_channel


@dataclass(frozen=True)
class Address:
    what: str
    url: str
    how: str


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str


def webhook_addresses() -> list[Address]:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return [
        Address("Twilio: a message comes in (SMS, WhatsApp)", base + reverse("webhook-twilio-messages"), "Twilio"),
        Address("SendGrid Inbound Parse: an email comes in", base + "/anymail/sendgrid/inbound/", "SendGrid"),
        Address("SendGrid Event Webhook: delivered, opened, bounced", base + "/anymail/sendgrid/tracking/", "SendGrid"),
        Address("Your website's form (the script tag)", base + reverse("site-form-script"), "Your site"),
        Address("Typeform (per integration: Leads → Integrations)", base + "/webhooks/typeform/<slug>/", "Typeform"),
    ]


def test_email_send(*, to: str) -> str:
    """Send a test email to the owner through the configured backend (SendGrid in production)."""
    if "@" not in to:
        raise ValidationFailed("Give an address.", fields={"to": ["An email address to send the test to."]})
    profile = business()
    message = EmailMessage(
        subject=f"{profile.name}: BizPilot test email",
        body="This is BizPilot's test email. If you can read it, replies to your leads will reach them too.",
        from_email=profile.from_email,
        to=[to],
    )
    try:
        message.send()
    except Exception as exc:
        raise ValidationFailed("The test email was not sent.", fields={"to": [f"{type(exc).__name__}: {exc}"]}) from exc
    backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
    return f"Sent to {to} through {backend}."


def test_sms_send(*, to: str) -> str:
    """Send a test text to the owner through the configured SMS channel (Twilio in production)."""
    if not to.strip():
        raise ValidationFailed("Give a number.", fields={"to": ["A mobile number to text, +447700900123."]})
    channel = get_channel("sms")
    try:
        result = channel.send_text(
            to=to.strip(),
            body=f"{business().name}: BizPilot's test text. Leads who write by SMS will get replies like this.",
            status_callback=settings.PUBLIC_BASE_URL.rstrip("/") + reverse("webhook-twilio-status"),
        )
    except Exception as exc:
        raise ValidationFailed("The test text was not sent.", fields={"to": [f"{type(exc).__name__}: {exc}"]}) from exc
    return f"Sent to {to} through {result.provider} ({result.provider_message_id})."


def signed_checks() -> list[Check]:
    base = urlsplit(settings.PUBLIC_BASE_URL)
    client = Client(HTTP_HOST=base.netloc)
    secure = base.scheme == "https"
    return [_twilio(client, secure), _sendgrid(client, secure), *_typeform(client, secure)]


def _twilio(client: Client, secure: bool) -> Check:
    from twilio.request_validator import RequestValidator

    what = "Twilio's signature (X-Twilio-Signature)"
    if not settings.TWILIO_AUTH_TOKEN:
        return Check(what, False, "TWILIO_AUTH_TOKEN is not set: Twilio's requests are refused.")
    path = reverse("webhook-twilio-status")
    params = {"MessageSid": "SMbizpilotsetupcheck", "MessageStatus": "delivered"}
    url = settings.PUBLIC_BASE_URL.rstrip("/") + path
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    answer = client.post(path, params, headers={"X-Twilio-Signature": signature}, secure=secure)
    ok = answer.status_code == 204
    return Check(what, ok, "Accepted." if ok else f"Refused with {answer.status_code}.")


def _sendgrid(client: Client, secure: bool) -> Check:
    what = "SendGrid's webhooks (basic auth with ANYMAIL_WEBHOOK_SECRET)"
    secret = settings.ANYMAIL.get("WEBHOOK_SECRET") or ""
    if ":" not in secret:
        return Check(what, False, "ANYMAIL_WEBHOOK_SECRET (user:password) is not set: SendGrid's posts are refused.")
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    answer = client.post(
        "/anymail/sendgrid/tracking/",
        "[]",
        content_type="application/json",
        headers={"Authorization": auth},
        secure=secure,
    )
    ok = answer.status_code == 200
    return Check(what, ok, "Accepted." if ok else f"Refused with {answer.status_code}.")


def _typeform(client: Client, secure: bool) -> list[Check]:
    """Each active Typeform integration: a response with no answers, signed with its secret. Signed right, it is
    refused for what it lacks (no email or phone: 422, nothing stored), not for its signature (403)."""
    import hashlib
    import hmac
    import json

    from leads.models import Integration

    checks = []
    for integration in Integration.objects.filter(kind=Integration.Kind.TYPEFORM, active=True).order_by("slug"):
        body = json.dumps({"event_id": "bizpilot-setup-check", "form_response": {"answers": []}}).encode()
        digest = hmac.new(integration.secret.encode(), body, hashlib.sha256).digest()
        signature = "sha256=" + base64.b64encode(digest).decode()
        answer = client.post(
            reverse("webhook-typeform", args=[integration.slug]),
            body,
            content_type="application/json",
            headers={"Typeform-Signature": signature},
            secure=secure,
        )
        ok = answer.status_code != 403
        detail = "Accepted (the empty test response itself is refused, and nothing is stored)." if ok else "Refused."
        checks.append(Check(f"Typeform '{integration.slug}' (Typeform-Signature)", ok, detail))
    return checks
