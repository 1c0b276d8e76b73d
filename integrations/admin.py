"""Outbound webhooks in the admin: subscriptions (URL, events, what personal data they get, the secret to verify
with), and the delivery log: each event's request, response code and time, and attempts, with "send again"."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from bizpilot.actors import user_actor
from bizpilot.admin import ReadOnlyAdmin, service_action
from bizpilot.audit import audit_record
from integrations.crm import crm_connection_resume, crm_link_sync_again
from integrations.delivery import webhook_delivery_send_again, webhook_subscription_enable
from integrations.models import (
    EVENT_TYPES,
    INTENTS,
    CrmConnection,
    CrmLink,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=[(e, e) for e in EVENT_TYPES], widget=forms.CheckboxSelectMultiple)
    url = forms.URLField(max_length=1000, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "personal_data", "message_text", "is_active", "secret"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "is_active", "personal_data", "message_text", "disabled_reason"]
    readonly_fields = ["disabled_at", "disabled_reason", "created_by", "created_at"]
    actions = [
        service_action(
            "enable_selected",
            "Turn on again (what they missed goes out, in order)",
            lambda pk, actor: webhook_subscription_enable(subscription_id=pk, actor=actor),
            done="{} subscription(s) turned on.",
        )
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = user_actor(request.user)
        super().save_model(request, obj, form, change)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "status_code", "duration_ms", "error", "response_body", "request_body"]
    readonly_fields = ["at", "status_code", "duration_ms", "error", "response_body", "request_body"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "subscription", "lead_id", "coloured_status", "attempts", "last_status_code"]
    list_filter = ["status", "subscription", "event__type"]
    list_select_related = ["event", "subscription"]
    search_fields = ["event__event_id", "=lead_id"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields] + ["webhook_id"]
    inlines = [AttemptInline]
    actions = [
        service_action(
            "send_again",
            "Send again",
            lambda pk, actor: webhook_delivery_send_again(delivery_id=pk, actor=actor),
            done="{} delivery(ies) queued again.",
        )
    ]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("integrations.change_webhookdelivery") and obj is None

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="webhook-id")
    def webhook_id(self, obj: WebhookDelivery) -> str:
        return obj.event.event_id

    @admin.display(description="Status", ordering="status")
    def coloured_status(self, obj: WebhookDelivery):
        colour = {"delivered": "#2e7d32", "failed": "#ba2121"}.get(obj.status, "inherit")
        return format_html(
            '<span style="color:{}" title="{}">{}</span>', colour, obj.last_error, obj.get_status_display()
        )


SECRETS = ("access_token", "refresh_token", "client_secret", "webhook_password")
STAGE_HELP = {
    "contact": "HubSpot lifecycle stage (e.g. salesqualifiedlead); empty: left as it is",
    "deal": "HubSpot: a deal stage's internal name (e.g. appointmentscheduled); Pipedrive: a stage id. Empty: no deal",
}


def _stage_field(intent: str, kind: str) -> forms.CharField:
    label = f"{intent.capitalize()} lead → {kind} stage"
    return forms.CharField(required=False, max_length=100, label=label, help_text=STAGE_HELP[kind])


class CrmConnectionForm(forms.ModelForm):
    """The connection, with the intent → stage maps as one field per intent, and the secrets write-only: left
    empty, a secret keeps its value."""

    api_base = forms.URLField(
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=CrmConnection._meta.get_field("api_base").help_text,
    )
    hot_contact_stage = _stage_field("hot", "contact")
    warm_contact_stage = _stage_field("warm", "contact")
    cold_contact_stage = _stage_field("cold", "contact")
    hot_deal_stage = _stage_field("hot", "deal")
    warm_deal_stage = _stage_field("warm", "deal")
    cold_deal_stage = _stage_field("cold", "deal")
    won_stages_text = forms.CharField(required=False, label="Won stages", help_text="HubSpot, comma-separated")
    lost_stages_text = forms.CharField(required=False, label="Lost stages", help_text="HubSpot, comma-separated")

    class Meta:
        model = CrmConnection
        fields = [
            "kind",
            "is_active",
            "api_base",
            "access_token",
            "refresh_token",
            "client_id",
            "client_secret",
            "pipeline",
            "add_note",
            "webhook_user",
            "webhook_password",
        ]
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRETS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        for kind in ("contact", "deal"):
            values = getattr(instance, f"{kind}_stages") or {}
            for intent in INTENTS:
                self.fields[f"{intent}_{kind}_stage"].initial = values.get(intent, "")
        self.fields["won_stages_text"].initial = ", ".join(instance.won_stages or [])
        self.fields["lost_stages_text"].initial = ", ".join(instance.lost_stages or [])
        for name in SECRETS:
            self.fields[name].required = False
            if getattr(instance, name):
                self.fields[name].help_text = "Set. Leave empty to keep it; type a new one to replace it."

    def clean(self):
        data = super().clean() or {}
        kind = data.get("kind") or self.instance.kind
        for name in SECRETS:
            if not data.get(name):
                data[name] = getattr(self.instance, name)
        if not data.get("access_token"):
            self.add_error("access_token", "A token is needed to reach the CRM.")
        numeric = kind == CrmConnection.Kind.PIPEDRIVE
        for intent in INTENTS:
            stage = (data.get(f"{intent}_deal_stage") or "").strip()
            if stage and numeric and not stage.isdigit():
                self.add_error(f"{intent}_deal_stage", "A Pipedrive stage is its number (Deals → Pipelines).")
        if numeric and data.get("pipeline") and not str(data["pipeline"]).isdigit():
            self.add_error("pipeline", "A Pipedrive pipeline is its number.")
        if data.get("refresh_token") and not (data.get("client_id") and data.get("client_secret")):
            self.add_error("client_id", "Renewing a token needs the app's client id and secret.")
        return data

    def save(self, commit=True):
        connection = super().save(commit=False)
        for name in SECRETS:
            setattr(connection, name, self.cleaned_data[name])
        for kind in ("contact", "deal"):
            setattr(
                connection,
                f"{kind}_stages",
                {intent: (self.cleaned_data.get(f"{intent}_{kind}_stage") or "").strip() for intent in INTENTS},
            )
        for which in ("won", "lost"):
            text = self.cleaned_data.get(f"{which}_stages_text") or ""
            setattr(connection, f"{which}_stages", [part.strip() for part in text.split(",") if part.strip()])
        if commit:
            connection.save()
        return connection


@admin.register(CrmConnection)
class CrmConnectionAdmin(admin.ModelAdmin):
    form = CrmConnectionForm
    list_display = ["__str__", "is_active", "status", "waiting", "failing", "updated_at"]
    readonly_fields = ["status", "status_detail", "rate_limited_until", "token_expires_at", "updated_by"]
    actions = [
        service_action(
            "resume_selected",
            "Resume (send what waited)",
            lambda pk, actor: crm_connection_resume(connection_id=pk, actor=actor),
            done="{} connection(s) resumed.",
        )
    ]

    def get_fieldsets(self, request, obj=None):
        stages = [f"{intent}_{kind}_stage" for kind in ("contact", "deal") for intent in INTENTS]
        return [
            (None, {"fields": ["kind", "is_active", "status", "status_detail", "api_base"]}),
            (
                "Access",
                {"fields": ["access_token", "refresh_token", "client_id", "client_secret", "token_expires_at"]},
            ),
            ("Stages", {"fields": ["pipeline", *stages, "won_stages_text", "lost_stages_text", "add_note"]}),
            ("Pipedrive webhooks", {"fields": ["webhook_user", "webhook_password"]}),
        ]

    @admin.display(description="Leads waiting")
    def waiting(self, obj: CrmConnection) -> int:
        return obj.links.filter(pending=True).count()

    @admin.display(description="Leads refused")
    def failing(self, obj: CrmConnection) -> int:
        return obj.links.filter(pending=False).exclude(last_error="").count()

    def save_model(self, request, obj, form, change):
        actor = user_actor(request.user)
        obj.updated_by = actor
        super().save_model(request, obj, form, change)
        shown = [f for f in form.changed_data if f not in SECRETS] + [
            f"{f} (replaced)" for f in SECRETS if f in form.changed_data and form.data.get(f)
        ]
        audit_record(actor=actor, action="crm.saved", obj=obj, after={"changed": shown})
        if obj.status != CrmConnection.Status.OK and any(f in form.changed_data for f in SECRETS):
            crm_connection_resume(connection_id=obj.pk, actor=actor)  # a new token: try again at once


@admin.register(CrmLink)
class CrmLinkAdmin(ReadOnlyAdmin):
    list_display = [
        "lead",
        "connection",
        "contact_id",
        "deal_id",
        "synced_intent",
        "pending",
        "last_synced_at",
        "last_error",
    ]
    list_filter = ["connection", "pending"]
    search_fields = ["=lead__id", "contact_id", "deal_id"]
    list_select_related = ["lead", "connection"]
    readonly_fields = [f.name for f in CrmLink._meta.fields]
    actions = [
        service_action(
            "sync_again",
            "Sync again",
            lambda pk, actor: crm_link_sync_again(link_id=pk, actor=actor),
            done="{} lead(s) queued for the CRM.",
        )
    ]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("integrations.change_crmlink") and obj is None
