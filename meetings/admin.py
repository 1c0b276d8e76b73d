"""Meetings in the admin: the business's availability (one row: weekly hours, length, buffer, notice, the most a
day, a Cal.com or Calendly link, a CalDAV calendar), its days off, and the list of meetings booked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from bizpilot.admin import ReadOnlyAdmin, SettingsRowAdmin, business_clock_note
from meetings.availability import AVAILABILITY_FIELDS, availability_save, availability_validate
from meetings.models import WEEKDAYS, Availability, DayOff, Meeting, SlotOffer


def availability_defaults() -> dict[str, Any]:
    """The form's first values: the model's defaults (nothing set up yet)."""
    return {}


class AvailabilityForm(forms.ModelForm):
    booking_link = forms.URLField(
        required=False, assume_scheme="https", help_text=Availability._meta.get_field("booking_link").help_text
    )
    caldav_url = forms.URLField(
        required=False, assume_scheme="https", help_text=Availability._meta.get_field("caldav_url").help_text
    )
    caldav_password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=True), help_text="An app password, not your main one"
    )

    class Meta:
        model = Availability
        fields = AVAILABILITY_FIELDS


@admin.register(Availability)
class AvailabilityAdmin(SettingsRowAdmin):
    form = AvailabilityForm
    setting_fields = AVAILABILITY_FIELDS
    fieldsets = [
        ("Weekly hours", {"fields": [*WEEKDAYS]}),
        (
            "Meetings",
            {
                "fields": [
                    "meeting_minutes",
                    "buffer_minutes",
                    "minimum_notice_minutes",
                    "max_per_day",
                    "slots_offered",
                    "meeting_title",
                    "location",
                    "invite_email",
                ]
            },
        ),
        ("A scheduling page instead of times", {"fields": ["booking_link"]}),
        ("Busy times from your calendar (CalDAV)", {"fields": ["caldav_url", "caldav_username", "caldav_password"]}),
        (None, {"fields": ["updated_by", "updated_at"]}),
    ]
    validate = staticmethod(availability_validate)

    def get_fieldsets(self, request, obj=None):
        (title, options), *rest = super().get_fieldsets(request, obj)
        return [(title, {**options, "description": business_clock_note()}), *rest]

    current_values = staticmethod(availability_defaults)
    save_values = staticmethod(availability_save)


@admin.register(DayOff)
class DayOffAdmin(admin.ModelAdmin):
    list_display = ["date", "note"]
    date_hierarchy = "date"


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["starts_at", "ends_at", "status", "source", "lead_link", "attendee_name", "lead_time_zone"]
    list_filter = ["status", "source"]
    date_hierarchy = "starts_at"
    search_fields = ["attendee_name", "attendee_email", "external_id"]
    list_select_related = ["lead"]
    readonly_fields = [f.name for f in Meeting._meta.fields]

    @admin.display(description="Lead")
    def lead_link(self, obj: Meeting):
        if obj.lead_id is None:
            return "-"
        url = reverse("admin:messaging_conversation_change", args=[obj.lead_id])
        return format_html('<a href="{}">{}</a>', url, obj.lead or f"#{obj.lead_id}")


@admin.register(SlotOffer)
class SlotOfferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "lead", "slots", "lead_time_zone", "message_id"]
    list_select_related = ["lead"]
    readonly_fields = ["lead", "message_id", "slots", "lead_time_zone", "created_at"]
