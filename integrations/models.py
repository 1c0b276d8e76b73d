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


INTENTS = ("hot", "warm", "cold")


def hubspot_contact_stages() -> dict[str, str]:
    return {"hot": "salesqualifiedlead", "warm": "marketingqualifiedlead", "cold": "lead"}


def default_deal_stages() -> dict[str, str]:
    return {"hot": "", "warm": "", "cold": ""}


def hubspot_won_stages() -> list[str]:
    return ["closedwon"]


def hubspot_lost_stages() -> list[str]:
    return ["closedlost"]


class CrmConnection(models.Model):
    """The business's CRM (one HubSpot, one Pipedrive): how to reach it, how intents map to its stages, and how its
    webhooks are verified. Tokens and secrets are never shown back or audited."""

    class Kind(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot"
        PIPEDRIVE = "pipedrive", "Pipedrive"

    class Status(models.TextChoices):
        OK = "ok", "Working"
        TOKEN_EXPIRED = "token_expired", "Paused: the access token expired and could not be refreshed"
        REFUSED = "refused", "Paused: the CRM refused the token"

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    is_active = models.BooleanField(default=True)
    api_base = models.URLField(
        max_length=300, blank=True, help_text="Empty: the CRM's own (https://api.hubapi.com, https://api.pipedrive.com)"
    )
    access_token = models.CharField(
        max_length=500,
        blank=True,
        help_text="HubSpot: a private app's token or an OAuth access token. Pipedrive: an "
        "API token, or an OAuth access token when a refresh token is set",
    )
    refresh_token = models.CharField(max_length=500, blank=True, help_text="OAuth only: renews an expired token")
    client_id = models.CharField(max_length=200, blank=True, help_text="OAuth app's client id (to refresh tokens)")
    client_secret = models.CharField(
        max_length=200, blank=True, help_text="OAuth app's client secret; HubSpot also signs its webhooks with it"
    )
    token_expires_at = models.DateTimeField(null=True, blank=True)
    pipeline = models.CharField(max_length=100, blank=True, help_text="The deals' pipeline (HubSpot: 'default')")
    contact_stages = models.JSONField(
        default=hubspot_contact_stages, blank=True, help_text="HubSpot: intent → the contact's lifecycle stage"
    )
    deal_stages = models.JSONField(
        default=default_deal_stages,
        blank=True,
        help_text="Intent → the deal stage a new deal starts in (HubSpot: an internal stage name such as "
        "'appointmentscheduled'; Pipedrive: a stage id). Empty: no deal for that intent, only the contact and a note",
    )
    won_stages = models.JSONField(
        default=hubspot_won_stages, blank=True, help_text="HubSpot: deal stages that mean won"
    )
    lost_stages = models.JSONField(
        default=hubspot_lost_stages, blank=True, help_text="HubSpot: deal stages that mean lost"
    )
    add_note = models.BooleanField(default=True, help_text="Keep a note with the conversation on the contact")
    webhook_user = models.CharField(max_length=100, blank=True, help_text="Pipedrive webhooks: the HTTP Basic user")
    webhook_password = models.CharField(max_length=200, blank=True, help_text="Pipedrive webhooks: its password")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OK)
    status_detail = models.TextField(blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True, help_text="The CRM asked to wait (429) until then")
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CRM connection"

    def __str__(self) -> str:
        return self.get_kind_display()


class CrmLink(models.Model):
    """One lead in one CRM: the ids of its contact, deal and note there, and whether it has changes to send."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="links")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="crm_links")
    contact_id = models.CharField(max_length=64, blank=True)
    deal_id = models.CharField(max_length=64, blank=True, db_index=True)
    note_id = models.CharField(max_length=64, blank=True)
    synced_intent = models.CharField(max_length=10, blank=True, help_text="The intent the CRM's stages were set from")
    pending = models.BooleanField(default=True, help_text="Has changes the CRM has not received")
    changes = models.PositiveIntegerField(default=1, help_text="Changes recorded (a sync sends every one before it)")
    synced_changes = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last sync")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "lead"], name="crm_link_once_per_lead")]
        indexes = [models.Index(fields=["pending", "next_attempt_at"], name="crm_link_due")]
        verbose_name = "CRM sync"

    def __str__(self) -> str:
        return f"lead {self.lead_id} in {self.connection}"
