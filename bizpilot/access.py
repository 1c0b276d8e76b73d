"""Who may do what. Operators review and send; admins also change settings and delete data.

Services check permissions themselves (`require_permission`), so every door (admin, API, shell) enforces the same
rules. A call without a user comes from the system or an integration's API key, authorised by its own credentials.
"""

from __future__ import annotations

from typing import Any

from bizpilot.errors import PermissionDenied

OPERATORS_GROUP = "Operators"
REVIEW = "messaging.review_message"

# Everything an operator needs for the day's work, and nothing that changes settings or deletes data.
OPERATOR_PERMISSIONS = [
    "messaging.view_message", "messaging.change_message", "messaging.review_message",
    "messaging.view_reviewqueueitem",
    "messaging.view_deliveryevent", "messaging.view_suppression", "messaging.add_suppression",
    "messaging.view_autosendpolicy",
    "leads.view_lead", "leads.view_inboundmessage", "leads.view_leadimport",
    "intelligence.view_classification", "intelligence.view_intentexample", "intelligence.view_knowledgedocument",
    "intelligence.view_knowledgechunk", "intelligence.view_modelcall", "intelligence.view_voiceexample",
    "intelligence.view_prompttemplate",
    "bizpilot.view_auditevent",
]  # fmt: skip


def require_permission(user: Any, permission: str, action: str) -> None:
    """Raise PermissionDenied unless `user` (when given) is active and holds `permission`."""
    if user is None:
        return
    if not (user.is_active and user.has_perm(permission)):
        raise PermissionDenied(f"You do not have permission to {action}.")


def ensure_operators_group(**kwargs) -> None:
    """Create or update the Operators group (run after every migrate; idempotent)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    wanted = []
    for label in OPERATOR_PERMISSIONS:
        app_label, codename = label.split(".")
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:  # created by its app's post_migrate, which may not have run yet
            wanted.append(permission)
    group.permissions.add(*wanted)
