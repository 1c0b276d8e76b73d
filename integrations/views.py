"""The CRMs' webhooks: a deal won or lost in HubSpot or Pipedrive marks its lead converted or lost
(integrations.crm_webhooks). A request the CRM did not make gets 403 and changes nothing; a body that is not the
CRM's gets 400."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bizpilot.api_errors import error_response, webhook_forbidden
from bizpilot.security import body_limited
from integrations.crm_webhooks import (
    Refused,
    hubspot_connection,
    hubspot_events_record,
    pipedrive_connection,
    pipedrive_event_record,
)


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def hubspot_webhook(request):
    try:
        connection = hubspot_connection(
            body=request.body, method=request.method, path=request.get_full_path(), headers=request.headers
        )
    except Refused as exc:
        return webhook_forbidden("hubspot", str(exc))
    try:
        results = hubspot_events_record(connection=connection, events=json.loads(request.body))
    except ValueError as exc:
        return error_response(400, "invalid", f"Not HubSpot webhook events: {exc}")
    return JsonResponse({"results": results})


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def pipedrive_webhook(request):
    try:
        connection = pipedrive_connection(authorization=request.headers.get("Authorization", ""))
    except Refused as exc:
        return webhook_forbidden("pipedrive", str(exc))
    try:
        results = pipedrive_event_record(connection=connection, payload=json.loads(request.body))
    except ValueError as exc:
        return error_response(400, "invalid", f"Not a Pipedrive webhook: {exc}")
    return JsonResponse({"results": results})
