from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse

from bizpilot.actors import user_actor
from bizpilot.errors import PermissionDenied, ServiceError
from bizpilot.flags import FLAG_FIELDS, flags, flags_save, flags_validate
from bizpilot.models import AuditEvent, FeatureFlags

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
            details = [problem for problems in exc.fields.values() for problem in problems]
            skipped.append(f"#{pk}: {' '.join([exc.message, *details])}")
    modeladmin.message_user(request, done.format(count), messages.SUCCESS if count else messages.WARNING)
    if skipped:
        modeladmin.message_user(request, "Skipped " + "; ".join(skipped), messages.WARNING)


class FeatureFlagsForm(forms.ModelForm):
    class Meta:
        model = FeatureFlags
        fields = FLAG_FIELDS

    def clean(self):
        data = super().clean() or {}
        for field_name, problems in flags_validate(data).items():
            for problem in problems:
                self.add_error(field_name, problem)
        return data


@admin.register(FeatureFlags)
class FeatureFlagsAdmin(admin.ModelAdmin):
    """One row of switches; admins change them, every change is audited (bizpilot.flags)."""

    form = FeatureFlagsForm
    fields = [*FLAG_FIELDS, "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not FeatureFlags.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = FeatureFlags.objects.order_by("pk").first()
        if row is not None:
            return HttpResponseRedirect(reverse("admin:bizpilot_featureflags_change", args=[row.pk]))
        return HttpResponseRedirect(reverse("admin:bizpilot_featureflags_add"))

    def get_changeform_initial_data(self, request):
        current = flags()
        return {field: getattr(current, field) for field in FLAG_FIELDS}

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data[field] for field in FLAG_FIELDS if field in form.cleaned_data}
        try:
            saved = flags_save(values=values, actor=user_actor(request.user), user=request.user)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        obj.pk = saved.pk

    def log_change(self, request, obj, message):
        pass

    def log_addition(self, request, obj, message):
        pass
