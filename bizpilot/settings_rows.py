"""One-row settings an admin edits (the business profile, the feature flags, the auto-send policy, the availability,
the website form): changed only with the permission, refused field by field when a value is wrong, written under a
row lock, created from the values in effect when it does not exist yet, with an audit row of before and after."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from django.db import models, transaction

from bizpilot.access import require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import ValidationFailed

Row = TypeVar("Row", bound=models.Model)


def settings_row_save(
    *,
    model: type[Row],
    fields: Sequence[str],
    values: dict[str, Any],
    actor: str,
    user: Any,
    permission: tuple[str, str],
    validate: Callable[[dict[str, Any]], dict[str, list[str]]],
    invalid: str,
    action: str,
    default: Callable[[], Row],
    shown: Callable[[Any], Any] = str,
    secret: Collection[str] = (),
) -> Row:
    """The service behind each settings row: `user` (None: the system) needs `permission` (the permission, and
    what it lets them do, for the refusal); `validate`'s problems refuse the change with the message `invalid`;
    then `settings_row_write`."""
    require_permission(user, *permission)
    problems = validate(values)
    if problems:
        raise ValidationFailed(invalid, fields=problems)
    return settings_row_write(
        model=model,
        fields=fields,
        values=values,
        actor=actor,
        action=action,
        default=default,
        shown=shown,
        secret=secret,
    )


def settings_row_write(
    *,
    model: type[Row],
    fields: Sequence[str],
    values: dict[str, Any],
    actor: str,
    action: str,
    default: Callable[[], Row],
    shown: Callable[[Any], Any] = str,
    secret: Collection[str] = (),
) -> Row:
    """Set `values` (of `fields`) on the one row; `default()` makes it, with the values in effect, when missing;
    `shown` is how a value is written into the audit row; a `secret` field's value never is (only whether it is
    set)."""

    def audited(row: Row) -> dict[str, Any]:
        return {
            f: ("(set)" if getattr(row, f) else "(empty)") if f in secret else shown(getattr(row, f)) for f in fields
        }

    with transaction.atomic():
        row = model._default_manager.select_for_update().order_by("pk").first() or default()
        before = audited(row)  # a new row: the values that were in effect
        for field in fields:
            if field in values:
                setattr(row, field, values[field])
        row.updated_by = actor  # type: ignore[attr-defined]
        row.save()
        audit_record(actor=actor, action=action, obj=row, before=before, after=audited(row))
    return row
