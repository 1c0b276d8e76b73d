"""Typed errors raised by services (no framework imports, so any module may raise them)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(ServiceError):
    code = "invalid"


class PermissionDenied(ServiceError):
    code = "forbidden"
    http_status = 403


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class InvalidTransition(ServiceError):
    """The object is not in a state that allows this action (approving a sent message, say)."""

    code = "invalid_state"
    http_status = 409


class SlotUnavailable(ServiceError):
    """The meeting time asked for is taken, closed, or too soon."""

    code = "slot_unavailable"
    http_status = 409


class IdempotencyConflict(ServiceError):
    code = "idempotency_key_reused"
    http_status = 422
