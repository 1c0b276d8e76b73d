from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages

from bizpilot.audit import actor_for_user
from bizpilot.errors import ServiceError
from leads.models import ApiKey, InboundMessage, Integration, Lead
from leads.services import api_key_revoke, lead_retry


class InboundMessageInline(admin.StackedInline):
    model = InboundMessage
    extra = 0
    can_delete = False
    fields = ["received_at", "channel", "subject", "body", "provider_message_id", "raw_payload"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "email",
        "phone",
        "company",
        "source",
        "state",
        "intent",
        "confidence",
        "created_at",
    ]
    list_filter = ["state", "intent", "source"]
    search_fields = ["name", "email", "phone", "company"]
    date_hierarchy = "created_at"
    inlines = [InboundMessageInline]
    actions = ["retry_processing"]
    readonly_fields = [
        "state",
        "intent",
        "intent_confidence",
        "processing_attempts",
        "processing_started_at",
        "last_error",
        "last_error_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "company", "source", "preferred_channel", "metadata"]}),
        ("Pipeline", {"fields": readonly_fields}),
    ]

    @admin.display(description="Confidence", ordering="intent_confidence")
    def confidence(self, obj: Lead) -> str:
        return "" if obj.intent_confidence is None else f"{obj.intent_confidence:.0%}"

    def has_add_permission(self, request):
        return False  # leads arrive through the API, webhooks and imports, which run the pipeline

    @admin.action(description="Retry processing (classify and draft again where it failed)")
    def retry_processing(self, request, queryset):
        done, skipped = 0, []
        for lead_id in queryset.values_list("pk", flat=True):
            try:
                lead_retry(lead_id=lead_id, actor=actor_for_user(request.user))
                done += 1
            except ServiceError as exc:
                skipped.append(f"#{lead_id}: {exc.message}")
        self.message_user(request, f"Queued {done} lead(s) for processing.", messages.SUCCESS)
        if skipped:
            self.message_user(request, "Skipped " + "; ".join(skipped), messages.WARNING)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are made with `manage.py create_api_key NAME`, which shows the key once

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key_id=api_key.pk, actor=actor_for_user(request.user))
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "active", "webhook_url", "last_received_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["webhook_url", "setup", "last_received_at", "created_at"]
    fields = ["name", "kind", "slug", "secret", "field_map", "source", "active", *readonly_fields]

    @admin.display(description="Webhook URL")
    def webhook_url(self, obj: Integration) -> str:
        if not obj.slug:
            return "-"
        kind = "typeform" if obj.kind == Integration.Kind.TYPEFORM else "forms"
        return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/{kind}/{obj.slug}/"

    @admin.display(description="How to connect it")
    def setup(self, obj: Integration) -> str:
        return {
            Integration.Kind.TYPEFORM: "Typeform: Connect > Webhooks > Add a webhook with the URL above, then "
            "Edit > Secret with this integration's secret.",
            Integration.Kind.GOOGLE_FORMS: "Google Forms: paste the Apps Script from docs/integrations.md into "
            "the form's script editor with the URL above and this secret, and add an 'On form submit' trigger.",
            Integration.Kind.JSON: "POST a JSON object to the URL above with the header X-BizPilot-Signature: "
            "sha256=<hex HMAC-SHA256 of the raw body with this secret>.",
        }.get(obj.kind, "")
