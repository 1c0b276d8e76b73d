"""Webhooks that bring leads in from form tools: Typeform, Google Forms (an Apps Script) and generic JSON.

Each is an Integration in the admin: its slug is in the URL, its secret authenticates the request, and its field
map says where the lead's fields are. A request that fails authentication gets 403 and nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bizpilot.api_errors import error_response, webhook_forbidden
from bizpilot.errors import ServiceError
from bizpilot.security import body_limited
from leads.ingest import integration_ingest, lead_accepted_body
from leads.mapping import map_fields, typeform_answers
from leads.models import Integration


def _integration(slug: str, kinds: set[str]) -> Integration | None:
    return Integration.objects.filter(slug=slug, kind__in=kinds, active=True).first()


def typeform_signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Typeform signs the raw body: `Typeform-Signature: sha256=<base64 of HMAC-SHA256(secret, body)>`."""
    expected = "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return bool(header) and hmac.compare_digest(expected, header)


def json_signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Generic JSON webhooks: `X-BizPilot-Signature: sha256=<hex of HMAC-SHA256(secret, body)>`."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(header) and hmac.compare_digest(expected, header.strip().lower())


def _ingest(integration: Integration, fields: dict[str, str], payload: dict[str, Any], provider_id: str):
    try:
        lead = integration_ingest(
            integration=integration, fields=fields, raw_payload=payload, provider_message_id=provider_id[:255]
        )
    except ServiceError as exc:
        return error_response(422 if exc.code == "invalid" else exc.http_status, exc.code, exc.message, exc.fields)
    return JsonResponse(lead_accepted_body(lead), status=200)


def _json_body(request) -> dict[str, Any] | None:
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def typeform_webhook(request, slug: str):
    integration = _integration(slug, {Integration.Kind.TYPEFORM})
    if integration is None:
        return error_response(404, "not_found", f"No active Typeform integration '{slug}'.")
    if not typeform_signature_ok(integration.secret, request.body, request.headers.get("Typeform-Signature", "")):
        return webhook_forbidden(f"typeform:{slug}", "Missing or invalid Typeform-Signature.")
    payload = _json_body(request)
    if payload is None or not isinstance(payload.get("form_response"), dict):
        return error_response(400, "invalid", "Expected Typeform's JSON with a form_response object.")
    response = payload["form_response"]
    flat, typed = typeform_answers(response)
    fields = {**typed, **map_fields(flat, integration.field_map)}
    provider_id = str(response.get("token") or payload.get("event_id") or "")
    return _ingest(integration, fields, payload, provider_id)


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def forms_webhook(request, slug: str):
    integration = _integration(slug, {Integration.Kind.GOOGLE_FORMS, Integration.Kind.JSON})
    if integration is None:
        return error_response(404, "not_found", f"No active form integration '{slug}'.")
    if integration.kind == Integration.Kind.GOOGLE_FORMS:
        presented = request.headers.get("X-BizPilot-Secret", "")
        authentic = bool(presented) and hmac.compare_digest(presented, integration.secret)
    else:
        authentic = json_signature_ok(integration.secret, request.body, request.headers.get("X-BizPilot-Signature", ""))
    if not authentic:
        return webhook_forbidden(f"{integration.kind}:{slug}", "Missing or invalid signature.")
    payload = _json_body(request)
    if payload is None:
        return error_response(400, "invalid", "Expected a JSON object.")
    answers = payload.get("answers")
    flat = answers if isinstance(answers, dict) else payload
    fields = map_fields(flat, integration.field_map, nested=payload)
    provider_id = str(payload.get("responseId") or payload.get("id") or payload.get("event_id") or "")
    return _ingest(integration, fields, payload, provider_id)
