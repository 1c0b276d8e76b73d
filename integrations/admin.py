"""Outbound webhooks in the admin: subscriptions (URL, events, what personal data they get, the secret to verify
with), and the delivery log: each event's request, response code and time, and attempts, with "send again"."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from bizpilot.actors import user_actor
from bizpilot.admin import ReadOnlyAdmin, admin_each
from integrations.delivery import webhook_delivery_send_again, webhook_subscription_enable
from integrations.models import EVENT_TYPES, WebhookAttempt, WebhookDelivery, WebhookSubscription


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
    actions = ["enable_selected"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = user_actor(request.user)
        super().save_model(request, obj, form, change)

    @admin.action(description="Turn on again (what they missed goes out, in order)")
    def enable_selected(self, request, queryset):
        actor = user_actor(request.user)
        admin_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: webhook_subscription_enable(subscription_id=pk, actor=actor),
            done="{} subscription(s) turned on.",
        )


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
    actions = ["send_again"]

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

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        actor = user_actor(request.user)
        admin_each(
            self,
            request,
            queryset.values_list("pk", flat=True),
            lambda pk: webhook_delivery_send_again(delivery_id=pk, actor=actor),
            done="{} delivery(ies) queued again.",
        )
