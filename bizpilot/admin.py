from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from bizpilot.actors import user_actor
from bizpilot.business import PROFILE_FIELDS, business, business_save, business_validate, time_zone_names
from bizpilot.errors import PermissionDenied, ServiceError
from bizpilot.flags import FLAG_FIELDS, flags, flags_save, flags_validate
from bizpilot.models import AuditEvent, BusinessProfile, FeatureFlags

admin.site.site_header = "BizPilot"
admin.site.site_title = "BizPilot"
admin.site.index_title = "Leads, drafts and replies"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody edits in the admin (the audit log, the alerts sent): listed and shown only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "object_id"]
    readonly_fields = ["created_at", "actor", "action", "object_type", "object_id", "before", "after"]


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


def service_action(name: str, description: str, call: Callable[[int, str], object], *, done: str) -> Callable:
    """An admin action that calls a service (`call(pk, actor)`) for each selected row, through `admin_each`."""

    def action(modeladmin: admin.ModelAdmin, request: Any, queryset: Any) -> None:
        from bizpilot.actors import user_actor

        actor = user_actor(request.user)
        admin_each(modeladmin, request, queryset.values_list("pk", flat=True), lambda pk: call(pk, actor), done=done)

    action.__name__ = name
    return admin.action(description=description)(action)


class SettingsRowAdmin(admin.ModelAdmin):
    """The admin of a one-row settings model (the auto-send policy, the feature flags): its list opens the row (or
    the form for it, filled with the values in effect); the form shows the service's validation errors on its
    fields; saving goes through the service (which checks the permission and audits the change)."""

    setting_fields: Sequence[str] = ()
    readonly_fields = ["updated_by", "updated_at"]
    # Each subclass names its services (as staticmethods): the problems with some values, the values in effect,
    # and the save.
    validate: Callable[[dict[str, Any]], dict[str, list[str]]]
    current_values: Callable[[], dict[str, Any]]
    save_values: Callable[..., Any]

    def get_form(self, request, obj=None, change=False, **kwargs):
        validate = self.validate

        class Validated(super().get_form(request, obj, change, **kwargs)):  # type: ignore[misc]
            def clean(self):
                data = super().clean() or {}
                for field_name, problems in validate(data).items():
                    for problem in problems:
                        self.add_error(field_name, problem)
                return data

        return Validated

    def has_add_permission(self, request):
        # Asked for every settings model on every admin page (the app list and the sidebar): once per request.
        seen = request.__dict__.setdefault("_settings_rows_exist", {})
        label = self.model._meta.label
        if label not in seen:
            seen[label] = self.model._default_manager.exists()
        return super().has_add_permission(request) and not seen[label]

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = self.model._default_manager.order_by("pk").first()
        opts = self.model._meta
        if row is not None:
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
        return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))

    def get_changeform_initial_data(self, request):
        return self.current_values()

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in self.setting_fields if f in form.cleaned_data}
        try:
            saved = self.save_values(values=values, actor=user_actor(request.user), user=request.user)
        except PermissionDenied as exc:  # the form already showed every validation error
            raise DjangoPermissionDenied(exc.message) from exc
        obj.pk = saved.pk

    def log_change(self, request, obj, message):
        pass  # the service wrote the audit row

    def log_addition(self, request, obj, message):
        pass


def business_clock_note() -> str:
    """The line a settings page with times of day shows: whose clock they are on, and where it is set."""
    return format_html(
        'Times are on your business\'s clock, <strong>{}</strong>: change it in <a href="{}">the business profile</a>.',
        business().time_zone,
        reverse("admin:bizpilot_businessprofile_changelist"),
    )


class BusinessProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=lambda: [(name, name.replace("_", " ")) for name in time_zone_names()],
        help_text=BusinessProfile._meta.get_field("time_zone").help_text,
    )

    class Meta:
        model = BusinessProfile
        fields = PROFILE_FIELDS


@admin.register(BusinessProfile)
class BusinessProfileAdmin(SettingsRowAdmin):
    """Who the business is: one row; every change is audited (bizpilot.business)."""

    form = BusinessProfileForm
    setting_fields = PROFILE_FIELDS
    fields = [*PROFILE_FIELDS, "updated_by", "updated_at"]
    validate = staticmethod(business_validate)
    current_values = staticmethod(lambda: asdict(business()))
    save_values = staticmethod(business_save)


@admin.register(FeatureFlags)
class FeatureFlagsAdmin(SettingsRowAdmin):
    """One row of switches; admins change them, every change is audited (bizpilot.flags)."""

    setting_fields = FLAG_FIELDS
    fields = [*FLAG_FIELDS, "updated_by", "updated_at"]
    validate = staticmethod(flags_validate)
    current_values = staticmethod(lambda: asdict(flags()))
    save_values = staticmethod(flags_save)


class CachedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's "every distinct value" filter, its values remembered by this process for a minute: a DISTINCT over
    a table that grows with every lead (languages, sources) is not paid on every page of a busy list."""

    ttl_seconds = 60.0
    _seen: ClassVar[dict[str, tuple[float, list[Any]]]] = {}

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        key = f"{model._meta.label}:{field_path}"
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is None or now - seen[0] > self.ttl_seconds:
            seen = (now, list(self.lookup_choices))
            self._seen[key] = seen
        self.lookup_choices = seen[1]  # type: ignore[assignment]  # a list iterates as the queryset did
