from __future__ import annotations

import hashlib

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class Intent(models.TextChoices):
    HOT = "hot", "Hot"
    WARM = "warm", "Warm"
    COLD = "cold", "Cold"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"


class Lead(models.Model):
    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        CLASSIFIED = "classified", "Classified"
        DRAFTED = "drafted", "Drafted"
        CONTACTED = "contacted", "Contacted"
        REPLIED = "replied", "Replied"
        CONVERTED = "converted", "Converted"
        LOST = "lost", "Lost"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    # Which states a lead may move to from each state (DESIGN.md: lost and unsubscribed from any state after received).
    TRANSITIONS: dict[str, set[str]] = {
        State.RECEIVED: {State.PROCESSING},
        State.PROCESSING: {State.RECEIVED, State.CLASSIFIED, State.DRAFTED},
        State.CLASSIFIED: {State.PROCESSING, State.DRAFTED},
        State.DRAFTED: {State.CONTACTED, State.CONVERTED},  # converted: e.g. they phoned before we replied
        State.CONTACTED: {State.REPLIED, State.CONVERTED},
        State.REPLIED: {State.CONTACTED, State.CONVERTED},
        State.CONVERTED: set(),
        State.LOST: set(),
        State.UNSUBSCRIBED: {State.CONTACTED},  # opted back in (START)
    }
    EXITS = {State.LOST, State.UNSUBSCRIBED}

    # Not stored; set on the instance a service returns. `lead_ingest`: what the delivery was (new, attached, reply,
    # duplicate). `lead_claim_for_processing`: the state the claimed lead was in, which says where the pipeline
    # continues (a lead claimed in `classified` is not classified again).
    ingest_outcome: str = "new"
    resume_state: str = ""

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    company = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=50, default="api", db_index=True)
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.EMAIL)
    metadata = models.JSONField(default=dict, blank=True)

    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED, db_index=True)
    intent = models.CharField(max_length=10, choices=Intent.choices, blank=True, db_index=True)
    intent_confidence = models.FloatField(null=True, blank=True)

    processing_attempts = models.PositiveIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processing_by = models.CharField(
        max_length=300, blank=True, help_text="The process running the pipeline for this lead (host:pid:start)"
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    auto_process = models.BooleanField(
        default=True, help_text="Classify and draft automatically (imports can leave this off: process them by hand)"
    )

    # Milestones, each set once, the first time it happens (analytics read them: one row per lead, no joins).
    drafted_at = models.DateTimeField(null=True, blank=True, help_text="When the first reply was drafted")
    contacted_at = models.DateTimeField(null=True, blank=True, help_text="When the first message to the lead was sent")
    replied_at = models.DateTimeField(null=True, blank=True, help_text="When the lead first wrote back after that")
    meeting_booked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the lead's first meeting was booked (here, Cal.com or Calendly)"
    )
    converted_at = models.DateTimeField(null=True, blank=True, help_text="When the lead was marked converted")
    erased_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="The person asked to be erased: only this anonymous row is left"
    )

    created_by = models.CharField(max_length=200, blank=True, help_text="The API key or user that submitted the lead")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Emails are compared case-insensitively (Django's iexact compares UPPER(email) on PostgreSQL).
        indexes = [models.Index(Upper("email"), name="lead_email_upper")]

    def __str__(self) -> str:
        who = self.name or self.email or self.phone or "lead"
        return f"{who} (#{self.pk})"

    def can_move_to(self, new_state: str) -> bool:
        if new_state in self.EXITS:
            return self.state not in {self.State.RECEIVED, *self.EXITS}
        return new_state in self.TRANSITIONS.get(self.state, set())


class InboundMessage(models.Model):
    """One message from the lead, exactly as it arrived (the raw payload is kept)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="inbound_messages")
    channel = models.CharField(
        max_length=80, default="api", help_text="api, email, sms, whatsapp, csv, typeform:<slug>…"
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    raw_payload = models.JSONField(default=dict, blank=True)
    # The delivery's own id: a provider's message id, or for an API request with an Idempotency-Key
    # "idempotency:<sha256 of the caller and the key>" (blanked when the key expires). One message per id and channel.
    provider_message_id = models.CharField(max_length=255, blank=True)
    # For an Idempotency-Key: a SHA-256 of the request body, and the response replayed to a repeat.
    request_fingerprint = models.CharField(max_length=64, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    # Who actually wrote it, when not the lead's own address (a colleague answering in the thread).
    from_address = models.CharField(max_length=254, blank=True)
    # An auto-reply (out of office, delivery report, "I'm driving"): why it was taken for one, and when the person is
    # back when it says. It is not a reply: no stage changes, no draft; it only pauses the follow-ups.
    automated_reason = models.CharField(max_length=300, blank=True)
    automated_until = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="inbound_unique_provider_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} message #{self.pk} from lead #{self.lead_id}"

    @property
    def is_automated(self) -> bool:
        return bool(self.automated_reason)

    def header(self, name: str) -> str:
        """One of the email's headers as it arrived ("" when it had none, or it was no email)."""
        headers = (self.raw_payload or {}).get("headers") or {}
        wanted = name.lower()
        return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), "")


class ApiKey(models.Model):
    """An integration's key. Only a SHA-256 of the secret is stored; the key itself is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (bp_{self.prefix}_…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        # API keys carry 256 bits of randomness, so a fast hash is enough (no brute force is feasible).
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Integration(models.Model):
    """A lead source that posts to a webhook: its URL slug, its secret and how its fields map onto a lead."""

    class Kind(models.TextChoices):
        TYPEFORM = "typeform", "Typeform"
        GOOGLE_FORMS = "google_forms", "Google Forms"
        JSON = "json", "Generic JSON webhook"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True, help_text="The last part of its webhook URL")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    secret = models.CharField(
        max_length=200,
        help_text="Typeform: the webhook's secret. Google Forms: the X-BizPilot-Secret header's value. "
        "Generic JSON: the HMAC-SHA256 key of the X-BizPilot-Signature header.",
    )
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Lead field to the payload\'s field, e.g. {"email": "contact.email", "message": "answers.Project"} '
        "(Typeform: a field's ref, id or title). Unmapped fields are matched by common names (email, phone, ...).",
    )
    source = models.CharField(max_length=50, blank=True, help_text="The leads' source label (default: the slug)")
    active = models.BooleanField(default=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class LeadImport(models.Model):
    """A CSV file imported from the admin; a job runs it and keeps its progress and error report here."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    source = models.CharField(max_length=50, default="csv")
    column_map = models.JSONField(default=dict, blank=True, help_text='Column to lead field, e.g. {"E-mail": "email"}')
    process = models.BooleanField(default=False, help_text="Classify and draft replies for the imported leads")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    size_bytes = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    attached = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=5, blank=True)
    error_report = models.TextField(blank=True, help_text="line,field,error for every row not imported")
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "CSV import"

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def percent(self) -> int:
        return (
            100
            if self.status == self.Status.DONE
            else int(100 * self.bytes_done / self.size_bytes)
            if self.size_bytes
            else 0
        )


def site_form_default_fields() -> list[str]:
    return ["name", "email", "phone", "message"]


class SiteForm(models.Model):
    """The contact form for the business's own website, one row: one `<script>` tag renders it on their pages and
    it posts here (leads.site_form). Which fields it shows, the consent it asks for, the sites allowed to post it
    (CORS), and its spam checks: a honeypot, a minimum time to fill in, a rate per address, and optionally Cloudflare
    Turnstile or hCaptcha verified on the server."""

    class Captcha(models.TextChoices):
        NONE = "", "None (honeypot, time and rate checks only)"
        TURNSTILE = "turnstile", "Cloudflare Turnstile"
        HCAPTCHA = "hcaptcha", "hCaptcha"

    is_active = models.BooleanField(default=True)
    allowed_origins = models.TextField(
        help_text="The sites the form is on, one per line, as the browser names them: https://flowright.example"
    )
    fields = models.JSONField(
        default=site_form_default_fields, help_text="Shown, in order, from: name, email, phone, company, message"
    )
    required = models.JSONField(default=list, blank=True, help_text="Of those, the ones a visitor must fill in")
    heading = models.CharField(max_length=200, default="Get in touch")
    button_text = models.CharField(max_length=60, default="Send")
    thank_you = models.CharField(max_length=500, default="Thank you: we have your message and will reply soon.")
    consent_text = models.CharField(
        max_length=500, default="I agree that you may contact me about my enquiry and keep my details to do so."
    )
    privacy_url = models.URLField(blank=True, help_text="Your privacy notice, linked beside the consent box")
    min_seconds = models.PositiveSmallIntegerField(default=3, help_text="Faster than this is a bot")
    per_hour = models.PositiveSmallIntegerField(default=5, help_text="Most messages from one address in an hour")
    captcha = models.CharField(max_length=10, choices=Captcha.choices, blank=True, default=Captcha.NONE)
    captcha_site_key = models.CharField(max_length=200, blank=True)
    captcha_secret = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=50, default="website", help_text="The leads' source label")
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "website contact form"

    def __str__(self) -> str:
        return "Website contact form"

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]
