from __future__ import annotations

from django.contrib import admin

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
