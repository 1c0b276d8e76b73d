"""The audit log: services call `audit_record` inside the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Iterable
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


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Write many audit events in one statement (a CSV batch); build each with `audit_event`."""
    return AuditEvent.objects.bulk_create(events, batch_size=1000)


def audit_event(*, actor: str, action: str, obj: models.Model, after: dict[str, Any] | None = None) -> AuditEvent:
    """An unsaved audit event, for `audit_record_many`."""
    return AuditEvent(actor=actor, action=action, object_type=obj._meta.label, object_id=str(obj.pk), after=after or {})


def audit_scrub(*, model: type[models.Model], ids: Iterable[object]) -> int:
    """Erasure: the audit events about these objects keep who did what and when, but none of the values."""
    keys = [str(i) for i in ids]
    if not keys:
        return 0
    return AuditEvent.objects.filter(object_type=model._meta.label, object_id__in=keys).update(
        before={}, after={"erased": True}
    )
