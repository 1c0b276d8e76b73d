"""Who may do what. Operators review and send; admins also change settings and delete data.

Services check permissions themselves (`require_permission`), so every door (admin, API, shell) enforces the same
rules. A call without a user comes from the system or an integration's API key, authorised by its own credentials.
Each app lists what an operator may do with its own models (`operator_permissions` on its AppConfig); the Operators
group is the union of those lists, so this kernel names no other app's permission.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from bizpilot.errors import PermissionDenied

OPERATORS_GROUP = "Operators"
# Reviewing replies spans apps (leads: outcomes; intelligence: intent corrections; messaging: drafts), so the
# permission lives here, on the table-less bizpilot.Access model.
REVIEW = "bizpilot.review"


def require_permission(user: Any, permission: str, action: str) -> None:
    """Raise PermissionDenied unless `user` (when given) is active and holds `permission`."""
    if user is None:
        return
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(f"You do not have permission to {action}.")


def operator_permissions() -> list[str]:
    """Every app's `operator_permissions`: what the day's work needs, and nothing that changes settings or deletes."""
    return [label for config in apps.get_app_configs() for label in getattr(config, "operator_permissions", [])]


def ensure_operators_group(**kwargs: Any) -> None:
    """Create or update the Operators group (run after every migrate; idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    wanted = []
    for label in operator_permissions():
        app_label, codename = label.split(".")
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:  # created by its app's post_migrate, which may not have run yet
            wanted.append(permission)
    group.permissions.add(*wanted)
