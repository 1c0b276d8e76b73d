"""Meetings: when the business can meet (Availability, DayOff), the times offered to a lead (SlotOffer) and the
meetings booked (Meeting), here or through a Cal.com or Calendly link."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from leads.models import InboundMessage, Lead

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _hours(day: str) -> models.CharField:
    return models.CharField(
        max_length=100, blank=True, help_text=f"{day}: opening times, e.g. 09:00-12:30, 13:30-17:00 (empty: closed)"
    )


class Availability(models.Model):
    """When the business takes meetings: one row, edited by admins. Until weekly hours are set, hot drafts ask the
    lead for times instead of offering slots. The hours are on the business's clock (its profile's time zone)."""

    monday = _hours("Monday")
    tuesday = _hours("Tuesday")
    wednesday = _hours("Wednesday")
    thursday = _hours("Thursday")
    friday = _hours("Friday")
    saturday = _hours("Saturday")
    sunday = _hours("Sunday")
    meeting_minutes = models.PositiveSmallIntegerField(default=30, help_text="How long a meeting is")
    buffer_minutes = models.PositiveSmallIntegerField(default=15, help_text="Kept free before and after a meeting")
    minimum_notice_minutes = models.PositiveIntegerField(
        default=240, help_text="The earliest a meeting may start after it is offered or booked"
    )
    max_per_day = models.PositiveSmallIntegerField(default=4, help_text="The most meetings in one day")
    slots_offered = models.PositiveSmallIntegerField(default=3, help_text="How many times a hot draft offers (2-3)")
    meeting_title = models.CharField(max_length=200, default="Call with {business}", help_text="{business}: the name")
    location = models.CharField(max_length=300, blank=True, help_text="A phone number or a video-call link")
    booking_link = models.URLField(
        blank=True, help_text="A Cal.com or Calendly page: offered instead of times when set"
    )
    caldav_url = models.URLField(
        blank=True, help_text="A CalDAV calendar whose busy times are kept free (Google, iCloud, Fastmail, Nextcloud)"
    )
    caldav_username = models.CharField(max_length=200, blank=True)
    caldav_password = models.CharField(max_length=200, blank=True, help_text="An app password, not your main one")
    invite_email = models.EmailField(
        blank=True, help_text="Where the business's copy of each invitation goes (default: the sender address)"
    )
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "availability"
        verbose_name_plural = "availability"

    def __str__(self) -> str:
        return "Availability"

    def hours_of(self, weekday: int) -> str:
        """The opening times written for a weekday (0 is Monday)."""
        return str(getattr(self, WEEKDAYS[weekday]))


class DayOff(models.Model):
    date = models.DateField(unique=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = "day off"
        verbose_name_plural = "days off"

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note}".strip()


class SlotOffer(models.Model):
    """The times a draft offered a lead: their answer is read against these first."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="slot_offers")
    message_id = models.BigIntegerField(null=True, blank=True, help_text="The draft that offered them")
    slots = models.JSONField(help_text="The offered start times (ISO 8601, UTC)")
    lead_time_zone = models.CharField(max_length=64, help_text="The time zone the times were written in")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{len(self.slots)} times offered to lead #{self.lead_id}"


class Meeting(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        BIZPILOT = "bizpilot", "Booked by BizPilot from the lead's answer"
        PERSON = "person", "Booked by a person"
        CALCOM = "calcom", "Cal.com"
        CALENDLY = "calendly", "Calendly"

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED, db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    external_id = models.CharField(max_length=300, blank=True, help_text="The booking's id at Cal.com or Calendly")
    uid = models.CharField(max_length=100, unique=True, default=uuid.uuid4, help_text="The invitation's UID")
    sequence = models.PositiveIntegerField(default=0, help_text="The invitation's revision (RFC 5545 SEQUENCE)")
    lead_time_zone = models.CharField(max_length=64, blank=True)
    booked_from = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The answer"
    )
    attendee_email = models.EmailField(blank=True)
    attendee_name = models.CharField(max_length=200, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # The last guard against a double booking (bookings also take a lock and check overlaps).
            models.UniqueConstraint(
                fields=["starts_at"],
                condition=Q(status="booked", source__in=["bizpilot", "person"]),
                name="one_meeting_per_slot",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"], condition=~Q(external_id=""), name="meeting_external_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Meeting {self.starts_at:%Y-%m-%d %H:%M} UTC with lead #{self.lead_id}"
