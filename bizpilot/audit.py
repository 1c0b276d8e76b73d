"""The audit log: services call `audit_record` inside the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from django.db import models

from bizpilot.models import AuditEvent


def audit_record(
    *,
    actor: str,
    action: str,
    obj: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        before=before or {},
        after=after or {},
    )
