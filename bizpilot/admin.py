from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages

from bizpilot.errors import ServiceError
from bizpilot.models import AuditEvent

admin.site.site_header = "BizPilot"
admin.site.site_title = "BizPilot"
admin.site.index_title = "Leads, drafts and replies"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "object_id"]
    readonly_fields = ["created_at", "actor", "action", "object_type", "object_id", "before", "after"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_each(
    modeladmin: admin.ModelAdmin, request: Any, ids: Iterable[int], action: Callable[[int], object], *, done: str
) -> None:
    """An admin action's loop: call the service for each id, then tell the user how many were done (`done` is
    formatted with the count) and which were skipped, with the service's reason."""
    count, skipped = 0, []
    for pk in ids:
        try:
            action(pk)
            count += 1
        except ServiceError as exc:
            skipped.append(f"#{pk}: {exc.message}")
    modeladmin.message_user(request, done.format(count), messages.SUCCESS if count else messages.WARNING)
    if skipped:
        modeladmin.message_user(request, "Skipped " + "; ".join(skipped), messages.WARNING)
