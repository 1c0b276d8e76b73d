from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from bizpilot.actors import user_actor
from bizpilot.admin import admin_each
from bizpilot.errors import ServiceError
from leads.api_keys import api_key_revoke
from leads.csv_export import leads_csv_lines
from leads.erasure import lead_erase, lead_export
from leads.identity import leads_merge
from leads.imports import lead_import_create, lead_imports_requeue
from leads.lifecycle import lead_retry
from leads.models import ApiKey, InboundMessage, Integration, Lead, LeadImport


def csv_response(leads, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(leads_csv_lines(leads), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


INBOUND_FIELDS = ("received_at", "channel", "subject", "body", "provider_message_id", "raw_payload")


class InboundMessageInline(admin.StackedInline):
    model = InboundMessage
    extra = 0
    can_delete = False
    fields = INBOUND_FIELDS
    readonly_fields = INBOUND_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


PIPELINE_FIELDS = (
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
)


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
    actions = ["retry_processing", "merge_leads", "export_csv", "export_people", "erase_people"]
    readonly_fields = PIPELINE_FIELDS
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "company", "source", "preferred_channel", "metadata"]}),
        ("Pipeline", {"fields": PIPELINE_FIELDS}),
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The lead's page is its conversation (messaging's screen); `?record=1` shows the record itself, to edit
        the contact details or read the raw payloads."""
        live = Lead.objects.filter(pk=object_id, erased_at__isnull=True).exists() if object_id.isdigit() else False
        if request.method == "GET" and "record" not in request.GET and live:
            try:
                return HttpResponseRedirect(reverse("admin:messaging_conversation_change", args=[object_id]))
            except NoReverseMatch:  # the conversation screen is not installed
                pass
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Confidence", ordering="intent_confidence")
    def confidence(self, obj: Lead) -> str:
        return "" if obj.intent_confidence is None else f"{obj.intent_confidence:.0%}"

    def has_add_permission(self, request):
        return False  # leads arrive through the API, webhooks and imports, which run the pipeline

    def get_urls(self):
        from django.urls import path

        export = path("export.csv", self.admin_site.admin_view(self.export_csv_view), name="leads_lead_export_csv")
        return [export, *super().get_urls()]

    def export_csv_view(self, request):
        """The leads the list shows (its filters, search and date), as CSV, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return csv_response(changelist.get_queryset(request), "leads.csv")

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        link = reverse("admin:leads_lead_export_csv") + (f"?{query}" if query else "")
        return super().changelist_view(request, {**(extra_context or {}), "export_csv_url": link})

    @admin.action(description="Export the selected leads as CSV")
    def export_csv(self, request, queryset):
        return csv_response(queryset, "leads-selected.csv")

    @admin.action(description="Merge two leads of the same person")
    def merge_leads(self, request, queryset):
        leads = list(queryset.order_by("created_at", "id"))
        if len(leads) != 2:
            self.message_user(request, "Select exactly two leads to merge.", messages.ERROR)
            return None
        if request.POST.get("confirm"):
            keep_id = int(request.POST.get("keep", leads[0].pk))
            merge_id = next(lead.pk for lead in leads if lead.pk != keep_id)
            try:
                kept = leads_merge(keep_id=keep_id, merge_id=merge_id, actor=user_actor(request.user))
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
            self.message_user(request, f"Merged lead #{merge_id} into {kept}.", messages.SUCCESS)
            return None
        context = {**self.admin_site.each_context(request), "leads": leads, "title": "Merge two leads"}
        return TemplateResponse(request, "admin/leads/lead/merge_confirmation.html", context)

    @admin.action(description="Export everything held about the selected people (GDPR, JSON)")
    def export_people(self, request, queryset):
        exports = []
        for lead_id in queryset.filter(erased_at__isnull=True).values_list("pk", flat=True):
            exports.append(lead_export(lead_id=lead_id, user=request.user))
        response = JsonResponse(exports, safe=False, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = 'attachment; filename="bizpilot-export.json"'
        return response

    @admin.action(description="Erase the selected people everywhere (GDPR)", permissions=["delete"])
    def erase_people(self, request, queryset):
        leads = list(queryset.filter(erased_at__isnull=True).order_by("id"))
        if not request.POST.get("confirm"):
            context = {**self.admin_site.each_context(request), "leads": leads, "title": "Erase these people?"}
            return TemplateResponse(request, "admin/leads/lead/erase_confirmation.html", context)
        actor = user_actor(request.user)
        admin_each(
            self,
            request,
            [lead.pk for lead in leads],
            lambda pk: lead_erase(lead_id=pk, actor=actor, user=request.user),
            done="Erased {} person(s) everywhere.",
        )
        return None

    @admin.action(description="Process / retry processing (classify and draft; also for imported leads)")
    def retry_processing(self, request, queryset):
        actor = user_actor(request.user)
        ids = queryset.values_list("pk", flat=True)
        admin_each(
            self, request, ids, lambda pk: lead_retry(lead_id=pk, actor=actor), done="Queued {} lead(s) for processing."
        )


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
            api_key_revoke(api_key_id=api_key.pk, actor=user_actor(request.user))
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
        how: dict[str, str] = {
            Integration.Kind.TYPEFORM: "Typeform: Connect > Webhooks > Add a webhook with the URL above, then "
            "Edit > Secret with this integration's secret.",
            Integration.Kind.GOOGLE_FORMS: "Google Forms: paste the Apps Script from docs/integrations.md into "
            "the form's script editor with the URL above and this secret, and add an 'On form submit' trigger.",
            Integration.Kind.JSON: "POST a JSON object to the URL above with the header X-BizPilot-Signature: "
            "sha256=<hex HMAC-SHA256 of the raw body with this secret>.",
        }
        return how.get(obj.kind, "")


class LeadImportForm(forms.ModelForm):
    class Meta:
        model = LeadImport
        fields = ["file", "source", "column_map", "process"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt", ".tsv")):
            raise forms.ValidationError("Upload a .csv file (comma, semicolon or tab separated).")
        return upload

    def clean_column_map(self):
        from leads.importer import IMPORT_FIELDS

        value = self.cleaned_data.get("column_map") or {}
        if not isinstance(value, dict) or any(f not in IMPORT_FIELDS for f in value.values()):
            raise forms.ValidationError(f"A JSON object of column to field; fields: {', '.join(IMPORT_FIELDS)}.")
        return value


# An import's progress and counts, in the list and on its page.
IMPORT_PROGRESS = ["original_name", "status", "progress", "rows", "created", "attached", "duplicates", "invalid"]


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    """Upload a CSV here; a job imports it and this page follows its progress and shows the error report."""

    form = LeadImportForm
    list_display = [*IMPORT_PROGRESS, "created_at"]
    list_filter = ["status"]
    actions = ["run_again"]
    readonly_fields = [
        *IMPORT_PROGRESS,
        "encoding",
        "delimiter",
        "error",
        "errors",
        "created_by",
        "created_at",
        "finished_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["file", "source", "column_map", "process"]
        return ["source", "process", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "source", "process"] if obj else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or super().has_change_permission(request, obj)

    @admin.display(description="Progress")
    def progress(self, obj: LeadImport) -> str:
        return f"{obj.percent}%"

    @admin.display(description="Error report (line, field, error)")
    def errors(self, obj: LeadImport) -> str:
        if not obj.error_report:
            return "-"
        return format_html('<pre style="max-height: 30em; overflow: auto">{}</pre>', obj.error_report)

    def save_model(self, request, obj, form, change):
        saved = lead_import_create(
            upload=form.cleaned_data["file"],
            source=form.cleaned_data.get("source") or "csv",
            column_map=form.cleaned_data.get("column_map") or {},
            process=form.cleaned_data.get("process", False),
            actor=user_actor(request.user),
        )
        obj.pk = saved.pk
        obj.original_name = saved.original_name

    @admin.action(description="Queue the selected unfinished imports again (rows already imported are skipped)")
    def run_again(self, request, queryset):
        queued = lead_imports_requeue(import_ids=queryset.values_list("pk", flat=True), actor=user_actor(request.user))
        self.message_user(request, f"Queued {queued} import(s).")


from leads import admin_site_form  # noqa: E402, F401  (the website form's admin, in a module of its own)
