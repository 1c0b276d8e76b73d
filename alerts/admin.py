"""The alerts in the admin: who hears about what (each person edits their own settings; admins edit everyone's),
the team chat channels, and every alert sent, with its outcome."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from alerts.models import Alert, AlertRecipient, TeamWebhook
from alerts.people import INTENTS, alert_recipient_save, alert_recipient_validate, team_webhook_save
from bizpilot.actors import user_actor
from bizpilot.admin import ReadOnlyAdmin

INTENT_CHOICES = [(i, i.capitalize()) for i in INTENTS]
ADMIN_ONLY_FIELDS = ("user", "on_duty", "escalation_order", "is_admin", "is_active")


class AlertRecipientForm(forms.ModelForm):
    intents = forms.MultipleChoiceField(choices=INTENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(
        choices=AlertRecipient.Channel.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = AlertRecipient
        fields = [
            "name",
            "user",
            "email",
            "phone",
            "is_active",
            "on_duty",
            "escalation_order",
            "is_admin",
            "intents",
            "channels",
            "warm_digest",
            "digest_hour",
            "time_zone",
            "quiet_from",
            "quiet_until",
        ]

    def clean(self):
        data = super().clean() or {}
        candidate = AlertRecipient(**{k: v for k, v in data.items() if k != "user"})
        for name, problems in alert_recipient_validate(candidate).items():
            for problem in problems:
                self.add_error(name if name in self.fields else None, problem)
        return data


@admin.register(AlertRecipient)
class AlertRecipientAdmin(admin.ModelAdmin):
    form = AlertRecipientForm
    list_display = ["name", "on_duty", "escalation_order", "is_admin", "intents", "channels", "quiet", "is_active"]
    list_filter = ["on_duty", "is_admin", "is_active"]
    fieldsets = [
        (None, {"fields": ["name", "user", "email", "phone", "is_active"]}),
        ("Who is told", {"fields": ["on_duty", "escalation_order", "is_admin"]}),
        ("What and how", {"fields": ["intents", "channels", "warm_digest", "digest_hour"]}),
        ("Quiet hours", {"fields": ["time_zone", "quiet_from", "quiet_until"]}),
    ]

    def get_queryset(self, request):
        people = super().get_queryset(request).select_related("user")
        return people if request.user.is_superuser else people.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        return () if request.user.is_superuser else ADMIN_ONLY_FIELDS

    def has_add_permission(self, request):
        return request.user.is_superuser

    @admin.display(description="Quiet hours")
    def quiet(self, obj: AlertRecipient) -> str:
        if obj.quiet_from is None or obj.quiet_until is None:
            return "-"
        return f"{obj.quiet_from:%H:%M}-{obj.quiet_until:%H:%M} {obj.time_zone}"

    def save_model(self, request, obj, form, change):
        alert_recipient_save(recipient=obj, actor=user_actor(request.user))


class TeamWebhookForm(forms.ModelForm):
    intents = forms.MultipleChoiceField(choices=INTENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    url = forms.URLField(max_length=1000, assume_scheme="https", help_text=TeamWebhook._meta.get_field("url").help_text)

    class Meta:
        model = TeamWebhook
        fields = ["name", "kind", "url", "intents", "is_active"]


@admin.register(TeamWebhook)
class TeamWebhookAdmin(admin.ModelAdmin):
    form = TeamWebhookForm
    list_display = ["name", "kind", "masked_url", "intents", "is_active"]

    @admin.display(description="URL")
    def masked_url(self, obj: TeamWebhook) -> str:
        return obj.url[:30] + "…" if len(obj.url) > 30 else obj.url

    def save_model(self, request, obj, form, change):
        team_webhook_save(webhook=obj, actor=user_actor(request.user))


STATUS_COLOURS = {"failed": "#ba2121", "acknowledged": "#2e7d32", "delivered": "#1565c0", "held": "#8a6d00"}


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "level", "target", "channel", "coloured_status", "attempts", "lead_link"]
    list_filter = ["status", "kind", "level", "channel"]
    list_select_related = ["recipient", "webhook"]
    search_fields = ["event", "recipient__name", "webhook__name"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Alert._meta.fields]

    @admin.display(description="To")
    def target(self, obj: Alert) -> str:
        return str(obj.recipient or obj.webhook or "")

    @admin.display(description="Status", ordering="status")
    def coloured_status(self, obj: Alert):
        colour = STATUS_COLOURS.get(obj.status, "inherit")
        title = obj.last_error or obj.get_status_display()
        return format_html('<span style="color:{}" title="{}">{}</span>', colour, title, obj.get_status_display())

    @admin.display(description="Lead")
    def lead_link(self, obj: Alert):
        if obj.lead_id is None:
            return "-"
        from django.urls import reverse

        url = reverse("admin:messaging_conversation_change", args=[obj.lead_id])
        return format_html('<a href="{}">#{}</a>', url, obj.lead_id)
