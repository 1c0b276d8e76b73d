"""Alerts: who hears about hot leads and replies (AlertRecipient, TeamWebhook), and every alert sent (Alert)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bizpilot.business import business
from leads.models import Lead
from messaging.models import Message


def default_intents() -> list[str]:
    return ["hot"]


def default_channels() -> list[str]:
    return ["email", "browser"]


def business_time_zone() -> str:
    """A new person's time zone until they choose theirs: the business's."""
    return business().time_zone


class AlertRecipient(models.Model):
    """A person BizPilot tells about hot items, with their own settings: which intents, which channels, quiet hours
    in their own time zone, and warm leads in one daily digest instead of one alert each."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        BROWSER = "browser", "Browser notification (while the admin is open)"

    INTENTS = ("hot", "warm", "cold")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alert_settings",
        help_text="The admin login of this person (their browser notifications, and who acknowledged what)",
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="In international form: +447700900123")
    is_active = models.BooleanField(default=True)
    on_duty = models.BooleanField(default=True, help_text="Gets the first alert of every item")
    escalation_order = models.PositiveSmallIntegerField(
        default=10,
        help_text="Who is told next when a hot item stays unopened: the lowest number not on duty goes first",
    )
    is_admin = models.BooleanField(
        default=False, help_text="Told last, when a hot item is still unopened after the next person was told"
    )
    intents = models.JSONField(default=default_intents, help_text="Which intents to hear about: hot, warm, cold")
    channels = models.JSONField(default=default_channels, help_text="email, sms, browser")
    time_zone = models.CharField(max_length=64, default=business_time_zone, help_text="An IANA name: Europe/London")
    quiet_from = models.TimeField(null=True, blank=True, help_text="Quiet hours start (local time): alerts wait")
    quiet_until = models.TimeField(null=True, blank=True, help_text="Quiet hours end (local time)")
    warm_digest = models.BooleanField(
        default=True, help_text="Warm leads in one daily email instead of one alert each (when warm is chosen)"
    )
    digest_hour = models.PositiveSmallIntegerField(default=8, help_text="Local hour of the daily digest (0-23)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["escalation_order", "name"]

    def __str__(self) -> str:
        return self.name


class TeamWebhook(models.Model):
    """A team chat's incoming webhook: Slack, Microsoft Teams or Google Chat. Its messages link to the item and
    never quote the lead: everyone in the channel reads them."""

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack"
        TEAMS = "teams", "Microsoft Teams"
        GOOGLE_CHAT = "google_chat", "Google Chat"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(max_length=1000, help_text="The incoming webhook's URL (a secret: it lets anyone post)")
    intents = models.JSONField(default=default_intents, help_text="Which intents to post: hot, warm, cold")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Alert(models.Model):
    """One alert to one person (or one team channel) on one channel about one event. An event is a lead's message
    (`inbound:<id>`) or a digest; the constraints make one event give one alert per person and channel, however
    often the job runs."""

    class Kind(models.TextChoices):
        HOT_LEAD = "hot_lead", "Hot lead"
        HOT_REPLY = "hot_reply", "Hot reply"
        MEETING_REQUEST = "meeting_request", "Asks to meet"
        WARM_LEAD = "warm_lead", "Warm lead"
        COLD_LEAD = "cold_lead", "Cold lead"
        DIGEST = "digest", "Daily digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        HELD = "held", "Held (quiet hours)"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        CANCELLED = "cancelled", "Not needed any more"

    class Level(models.IntegerChoices):
        FIRST = 0, "On duty"
        NEXT = 1, "Escalated: next person"
        ADMINS = 2, "Escalated: admins"

    OPEN = (Status.PENDING, Status.HELD, Status.SENDING, Status.SENT, Status.DELIVERED)

    event = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.FIRST)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.ForeignKey(
        AlertRecipient, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    webhook = models.ForeignKey(TeamWebhook, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="Held until then (quiet hours, a retry)")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True, help_text="Exactly what was sent")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient", "channel"],
                condition=Q(recipient__isnull=False),
                name="alert_once_per_person_channel",
            ),
            models.UniqueConstraint(
                fields=["event", "webhook"], condition=Q(webhook__isnull=False), name="alert_once_per_webhook"
            ),
        ]
        indexes = [models.Index(fields=["status", "not_before"], name="alert_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient or self.webhook} ({self.channel})"


class LeadView(models.Model):
    """The first time each person opened a lead's item (its conversation or its draft): when a person first saw the
    lead, for speed-to-lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="views")
    viewer = models.CharField(max_length=200)
    first_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "viewer"], name="lead_view_once")]

    def __str__(self) -> str:
        return f"{self.viewer} saw lead #{self.lead_id} at {self.first_seen_at:%Y-%m-%d %H:%M}"
