"""Cal.com and Calendly webhooks: verified as each provider signs, then recorded (meetings.external). A forged or
unsigned request gets 403 and nothing is stored; a body that is no booking gets 400."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bizpilot.api_errors import error_response, webhook_forbidden
from bizpilot.security import body_limited
from meetings.external import (
    WebhookRefused,
    calcom_event_record,
    calcom_signature_ok,
    calendly_event_record,
    calendly_signature_ok,
)


def _answer(record, body: bytes):
    try:
        meeting = record(json.loads(body))
    except (ValueError, AttributeError, WebhookRefused) as exc:
        return error_response(400, "invalid", f"Not a booking event: {exc}")
    return JsonResponse({"meeting": meeting.pk if meeting else None})


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def calcom_webhook(request):
    if not calcom_signature_ok(request.body, request.headers.get("X-Cal-Signature-256", "")):
        return webhook_forbidden("calcom", "The Cal.com signature is missing or wrong.")
    return _answer(calcom_event_record, request.body)


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def calendly_webhook(request):
    if not calendly_signature_ok(request.body, request.headers.get("Calendly-Webhook-Signature", "")):
        return webhook_forbidden("calendly", "The Calendly signature is missing, wrong or too old.")
    return _answer(calendly_event_record, request.body)
