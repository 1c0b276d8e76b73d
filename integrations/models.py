"""Outbound webhooks: who is told (WebhookSubscription), what happened (WebhookEvent), and each delivery of an event
to a subscription (WebhookDelivery) with every attempt (WebhookAttempt)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.db import models
from django.utils import timezone

EVENT_TYPES = (
    "lead.created",
    "lead.classified",
    "lead.intent_changed",
    "message.drafted",
    "message.sent",
    "message.delivered",
    "message.bounced",
    "lead.replied",
    "meeting.booked",
    "lead.converted",
    "lead.lost",
    "lead.erased",
)


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def all_events() -> list[str]:
    return list(EVENT_TYPES)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookSubscription(models.Model):
    class PersonalData(models.TextChoices):
        NONE = "none", "Ids only: no name, address or words"
        CONTACT = "contact", "Contact details (name, email, phone, company)"

    class MessageText(models.TextChoices):
        NONE = "none", "Left out"
        REDACTED = "redacted", "Redacted (addresses, phone numbers and names as placeholders)"
        FULL = "full", "As written"

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=100, default=new_secret, help_text="whsec_…: the receiver verifies with it")
    events = models.JSONField(default=all_events, help_text="The event types sent to this URL")
    personal_data = models.CharField(max_length=20, choices=PersonalData.choices, default=PersonalData.NONE)
    message_text = models.CharField(max_length=20, choices=MessageText.choices, default=MessageText.NONE)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class WebhookEvent(models.Model):
    """Something that happened, once: its id is the `webhook-id` of every delivery of it (and every retry)."""

    event_id = models.CharField(max_length=64, unique=True, default=new_event_id)
    type = models.CharField(max_length=40, db_index=True)
    lead_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    key = models.CharField(max_length=200, unique=True, help_text="What makes it one event (a job run twice adds none)")
    data = models.JSONField(help_text="Everything known; each subscription gets only what it is set to include")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    lead_id = models.BigIntegerField(null=True, blank=True, help_text="Deliveries of one lead go out in order")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once_per_subscription")]
        indexes = [models.Index(fields=["subscription", "lead_id", "status", "id"], name="delivery_lead_order")]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event.type} → {self.subscription}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    request_body = models.TextField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attempt {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
