"""Webhooks from Twilio (inbound SMS/WhatsApp, status callbacks) and the unsubscribe page for email links."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from bizpilot.api_errors import webhook_forbidden
from bizpilot.business import business
from bizpilot.errors import ServiceError
from bizpilot.security import body_limited
from messaging.channels import unsubscribe_address
from messaging.events import twilio_status_receive
from messaging.inbound import inbound_text_receive
from messaging.models import Suppression
from messaging.suppression import suppression_add

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature_ok(request) -> bool:
    """`X-Twilio-Signature` checked with twilio's RequestValidator against the URL as Twilio saw it: the public URL
    (PUBLIC_BASE_URL, for servers behind a proxy) or the one this request arrived at."""
    from twilio.request_validator import RequestValidator

    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    params = request.POST.dict()
    urls = [settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path(), request.build_absolute_uri()]
    return any(validator.validate(url, params, signature) for url in dict.fromkeys(urls))


def _forbidden() -> JsonResponse:
    message = (
        "Missing or invalid X-Twilio-Signature." if settings.TWILIO_AUTH_TOKEN else "TWILIO_AUTH_TOKEN is not set."
    )
    return webhook_forbidden("twilio", message)


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def twilio_messages(request):
    if not twilio_signature_ok(request):
        return _forbidden()
    params = request.POST.dict()
    sender = params.get("From", "")
    try:
        inbound_text_receive(
            channel="whatsapp" if sender.startswith("whatsapp:") else "sms",
            sender=sender,
            body=params.get("Body", ""),
            provider_message_id=params.get("MessageSid") or params.get("SmsSid", ""),
            name=params.get("ProfileName", ""),
            raw_payload=params,
        )
    except ServiceError as exc:
        # Twilio retries non-2xx answers; a message that can never be stored (no usable sender) is logged instead.
        logger.warning("twilio inbound message refused: %s %s", exc.message, exc.fields)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def twilio_status(request):
    if not twilio_signature_ok(request):
        return _forbidden()
    twilio_status_receive(params=request.POST.dict(), message_id=request.GET.get("message", ""))
    return HttpResponse(status=204)


@csrf_exempt  # mail clients' RFC 8058 one-click POST carries no CSRF token; the signed token is the authority
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation button and changes nothing (link scanners follow every GET); POST unsubscribes."""
    try:
        address = unsubscribe_address(token)
    except signing.BadSignature:
        return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=400)
    context: dict[str, object] = {"address": address, "business_name": business().name}
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        suppression_add(
            address=address,
            reason=Suppression.Reason.UNSUBSCRIBED,
            source="list-unsubscribe one-click" if one_click else "unsubscribe page",
            actor=f"recipient:{address}",
        )
        context["done"] = True
    return render(request, "messaging/unsubscribe.html", context)
