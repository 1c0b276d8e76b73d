"""The one JSON error format, {"error": {"code", "message", "fields"}}, for every error any endpoint returns: DRF's
exception handler and the plain Django views (webhooks) both build it here."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from bizpilot.errors import ServiceError


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    """The error as a plain Django response, for views outside DRF (webhooks)."""
    return JsonResponse(error_body(code, message, fields), status=status)


def webhook_forbidden(source: str, message: str) -> JsonResponse:
    """A webhook that failed authentication: 403, nothing stored, counted for /metrics and logged (without the
    secret or the signature presented)."""
    from bizpilot.counters import counter_increment

    counter_increment("bizpilot_webhook_rejections", source=source)
    structlog.get_logger(__name__).warning("webhook.rejected", source=source, reason=message)
    return error_response(403, "forbidden", message)


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into {"field" or "field.sub": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                name = "non_field_errors"
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten_fields(item, f"{prefix}[{index}]"))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers 500
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        names = ", ".join(sorted(fields))
        response.data = error_body("invalid", f"Invalid input: {names}.", fields)
    elif isinstance(exc, exceptions.ParseError):
        response.data = error_body("malformed_json", f"The request body is not valid JSON: {exc.detail}")
    else:
        code = exc.default_code if isinstance(exc, exceptions.APIException) else "error"
        detail = getattr(exc, "detail", str(exc))
        response.data = error_body(str(code), str(detail))
    return response
