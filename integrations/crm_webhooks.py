"""Won and lost deals coming back from the CRMs, verified as each documents:

- **HubSpot** signs with the app's client secret (signature v3): `X-HubSpot-Signature-v3` is the base64 HMAC-SHA256
  of the method, the full URL it called, the body and `X-HubSpot-Request-Timestamp`; a timestamp more than 5 minutes
  old is refused (checked with the official client's `hubspot.utils.signature.Signature`). The body is a list of
  events; a deal's `dealstage` changing to a won (lost) stage is what counts.
- **Pipedrive** sends the HTTP Basic user and password set on its webhook. A deal whose `status` became `won`
  (`lost`) is what counts; both webhook versions (v1 `current`/`previous`, v2 `data`/`previous`) are read.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from django.conf import settings

from integrations.crm import crm_deal_closed
from integrations.models import CrmConnection


class Refused(Exception):
    """Not a request this CRM made (403)."""


def hubspot_connection(*, body: bytes, method: str, path: str, headers: Any) -> CrmConnection:
    from hubspot.exceptions import InvalidSignatureTimestampError
    from hubspot.utils.signature import Signature

    connection = CrmConnection.objects.filter(kind=CrmConnection.Kind.HUBSPOT, is_active=True).first()
    signature = headers.get("X-HubSpot-Signature-v3", "")
    if connection is None or not connection.client_secret or not signature:
        raise Refused("The HubSpot signature is missing, or no HubSpot app secret is set.")
    try:
        valid = Signature.is_valid(
            signature=signature,
            client_secret=connection.client_secret,
            request_body=body.decode("utf-8", "replace"),
            http_uri=settings.PUBLIC_BASE_URL.rstrip("/") + path,
            http_method=method,
            signature_version="v3",
            timestamp=headers.get("X-HubSpot-Request-Timestamp"),
        )
    except InvalidSignatureTimestampError as exc:
        raise Refused("The HubSpot request is too old (or has no timestamp).") from exc
    if not valid:
        raise Refused("The HubSpot signature is wrong.")
    return connection


def hubspot_events_record(*, connection: CrmConnection, events: Any) -> list[dict[str, Any]]:
    if not isinstance(events, list):
        raise ValueError("HubSpot sends a list of events")
    results = []
    for event in events:
        if not isinstance(event, dict):
            raise ValueError("each event is an object")
        is_deal = event.get("subscriptionType") == "deal.propertyChange" or (
            event.get("subscriptionType") == "object.propertyChange" and event.get("objectTypeId") == "0-3"
        )
        if not is_deal or event.get("propertyName") != "dealstage":
            continue
        stage = str(event.get("propertyValue", ""))
        won, lost = stage in (connection.won_stages or []), stage in (connection.lost_stages or [])
        if won or lost:
            results.append(crm_deal_closed(connection=connection, deal_id=str(event.get("objectId")), won=won))
    return results


def pipedrive_connection(*, authorization: str) -> CrmConnection:
    connection = CrmConnection.objects.filter(kind=CrmConnection.Kind.PIPEDRIVE, is_active=True).first()
    if connection is None or not connection.webhook_user or not connection.webhook_password:
        raise Refused("No Pipedrive webhook user and password are set.")
    scheme, _, encoded = authorization.partition(" ")
    try:
        given = base64.b64decode(encoded, validate=True) if scheme.lower() == "basic" else b""
    except (binascii.Error, ValueError):
        given = b""
    expected = f"{connection.webhook_user}:{connection.webhook_password}".encode()
    if not given or not hmac.compare_digest(given, expected):
        raise Refused("The Pipedrive webhook's user and password are missing or wrong.")
    return connection


def pipedrive_event_record(*, connection: CrmConnection, payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise ValueError("a Pipedrive webhook has a `meta` object")
    meta = payload["meta"]
    if (meta.get("entity") or meta.get("object")) != "deal":
        return []
    current = payload.get("data") or payload.get("current") or {}
    previous = payload.get("previous") or {}
    if not isinstance(current, dict) or not isinstance(previous, dict):
        raise ValueError("`data` (`current`) and `previous` are objects")
    status = current.get("status")
    if status not in ("won", "lost") or previous.get("status") == status:
        return []
    deal_id = current.get("id") or meta.get("entity_id") or meta.get("id")
    return [crm_deal_closed(connection=connection, deal_id=str(deal_id), won=status == "won")]
