from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Q

from bizpilot.errors import NotFound
from intelligence.models import Classification, ModelCall, PromptTemplate
from leads.models import Channel, InboundMessage, Intent, Lead


def body_hash(subject: str, body: str) -> str:
    return hashlib.sha256(f"{subject}\x00{body}".encode()).hexdigest()


def lock_message(message_id: int) -> Message:
    """The message row, locked for the rest of the caller's transaction (NotFound when it does not exist)."""
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"Message {message_id} does not exist.")
    return message


REVIEW_RANKS = {"hot": 0, "warm": 1, "cold": 2}


def review_rank(intent: str | None) -> int:
    return REVIEW_RANKS.get(intent or "", 3)


class Message(models.Model):
    """A reply to a lead: drafted, reviewed, then sent. Events (opened, clicked, ...) are DeliveryEvents."""

    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", "Pending review"
        APPROVED = "approved", "Approved"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        CANCELLED = "cancelled", "Cancelled"  # a follow-up whose sequence stopped before it went out

    class GeneratedBy(models.TextChoices):
        LLM = "llm", "LLM"
        FALLBACK = "fallback", "Fallback template"
        HOLDOUT = "holdout", "Holdout (a person writes it)"  # the manual baseline: no draft
        PERSON = "person", "Written by a person"  # the conversation composer, or POST /api/leads/{id}/messages/

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="messages")
    in_reply_to = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    classification = models.ForeignKey(
        Classification, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    to_address = models.CharField(max_length=254)

    original_subject = models.CharField(max_length=300, blank=True)
    original_body = models.TextField()
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_REVIEW, db_index=True)
    # Where it sits in the review queue: the intent it was drafted for (0 hot, 1 warm, 2 cold, 3 unknown). Stored,
    # so the queue's order and counts come from one index, however many leads are stored.
    review_rank = models.PositiveSmallIntegerField(default=3)
    generated_by = models.CharField(max_length=10, choices=GeneratedBy.choices)
    generation_reason = models.TextField(blank=True)
    template_name = models.CharField(max_length=200, blank=True)
    prompt_template = models.ForeignKey(
        PromptTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        help_text="The prompt template version this draft was written from",
    )
    draft_confidence = models.FloatField(null=True, blank=True)
    checks_failed = models.JSONField(default=list, blank=True, help_text="Why this draft may not go out unreviewed")
    injection_signals = models.JSONField(
        default=list, blank=True, help_text="Prompt-injection signs in the lead's text"
    )
    auto_send_decision = models.TextField(blank=True, help_text="What the auto-send policy decided, and why")
    model_call = models.ForeignKey(ModelCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    content_sid = models.CharField(
        max_length=64,
        blank=True,
        help_text="WhatsApp outside the 24-hour window: the approved Twilio content template sent instead of the text",
    )
    content_variables = models.JSONField(default=dict, blank=True, help_text="The content template's variables")
    reply_kind = models.CharField(
        max_length=24, blank=True, help_text="The kind of the lead's reply this message answers (empty: a first reply)"
    )
    answers = models.JSONField(
        default=list, blank=True, help_text="The inbound messages this draft answers (several written in a row)"
    )
    calendar_invite = models.TextField(
        blank=True, help_text="The meeting invitation (iCalendar) this email carries, when it confirms a meeting"
    )
    email_message_id = models.CharField(
        max_length=255, blank=True, help_text="Our Message-ID header on the email, which the lead's answer refers to"
    )
    experiment_variant = models.ForeignKey(
        "ExperimentVariant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        help_text="The experiment variant the lead was assigned to when this reply was drafted",
    )

    # What became of it (messaging.outcomes), each stamped the first time: people only, never machines.
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First opened or read by a person")
    clicked_at = models.DateTimeField(null=True, blank=True, help_text="First link clicked by a person")
    replied_at = models.DateTimeField(null=True, blank=True, help_text="The lead wrote before our next message")
    converted_at = models.DateTimeField(null=True, blank=True, help_text="The lead converted after it, the last sent")
    unsubscribed_at = models.DateTimeField(null=True, blank=True, help_text="The address opted out after it")

    edit_size = models.PositiveIntegerField(
        default=0, help_text="Characters an operator changed between the draft and the current text"
    )
    approved_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the exact text approved")
    approved_by = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=200, blank=True)
    rejected_reason = models.TextField(blank=True)

    send_attempts = models.PositiveIntegerField(default=0)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    outcome_unknown_at = models.DateTimeField(
        null=True, blank=True, help_text="Stuck in sending and the provider cannot be asked: a person must check"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["review_rank", "created_at", "id"],
                condition=Q(status="pending_review"),
                name="message_review_queue",
            ),
            models.Index(fields=["sent_at"], name="message_sent_at"),
            models.Index(fields=["lead", "sent_at"], name="message_lead_sent_at"),
        ]
        constraints = [
            # One draft per inbound message: a retried or concurrent pipeline run cannot draft twice.
            models.UniqueConstraint(
                fields=["in_reply_to"],
                condition=Q(in_reply_to__isnull=False),
                name="message_one_reply_per_inbound",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.to_address} ({self.status})"

    @property
    def was_edited(self) -> bool:
        return (self.subject, self.body) != (self.original_subject, self.original_body)


class ReviewQueueItem(Message):
    """The review queue: drafts waiting for a person, hot first, then oldest first (see messaging.admin)."""

    class Meta:
        proxy = True
        verbose_name = "draft to review"
        verbose_name_plural = "drafts to review"


class DeliveryEvent(models.Model):
    """Something that happened to a sent message: sent, delivered, opened, clicked, bounced, ..."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=30, db_index=True)
    provider = models.CharField(max_length=50)
    provider_event_id = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict, blank=True)
    is_machine = models.BooleanField(
        default=False, help_text="A machine open or a security scanner's click: kept, but not engagement"
    )
    machine_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="delivery_event_unique_provider_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} for message #{self.message_id}"


class Conversation(Lead):
    """A lead seen as its conversation: the operator's screen in the admin (messaging.admin_conversation)."""

    class Meta:
        proxy = True
        verbose_name = "conversation"
        verbose_name_plural = "conversations"


class ConversationNote(models.Model):
    """An operator's note in a lead's conversation: kept in the thread, never sent."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notes")
    author = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note by {self.author} on lead #{self.lead_id}"


class Suppression(models.Model):
    """An address that must not be written to: unsubscribed, STOP, bounced or complained. Checked before every send."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        STOP = "stop", "Texted STOP"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        MANUAL = "manual", "Added by an operator"

    address = models.CharField(max_length=254, unique=True, help_text="A lower-cased email address or an E.164 phone")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=200, blank=True, help_text="Where it came from: a link, a provider event…")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


# The kinds of reply whose answers may be auto-sent until an admin says otherwise: the plain ones. An objection about
# price or a competitor, a yes, a no, a wrong person or a referral always waits for a person.
DEFAULT_AUTO_REPLY_KINDS = ["question", "objection_timing", "objection_authority", "other"]


def default_auto_reply_kinds() -> list[str]:
    return list(DEFAULT_AUTO_REPLY_KINDS)


class AutoSendPolicy(models.Model):
    """When a fresh draft may go out without review: one row, edited by admins. Until it exists the defaults come
    from AUTO_SEND_ENABLED and AUTO_SEND_THRESHOLD."""

    enabled = models.BooleanField(default=False)
    threshold = models.FloatField(default=0.85, help_text="The draft confidence needed (0 to 1)")
    email = models.BooleanField(default=True, help_text="Auto-send email replies")
    sms = models.BooleanField("SMS", default=True, help_text="Auto-send SMS replies")
    whatsapp = models.BooleanField("WhatsApp", default=True, help_text="Auto-send WhatsApp replies")
    hot = models.BooleanField(default=True, help_text="Auto-send to hot leads")
    warm = models.BooleanField(default=True, help_text="Auto-send to warm leads")
    cold = models.BooleanField(default=True, help_text="Auto-send to cold leads")
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="No automatic SMS/WhatsApp from this time (the business profile's time zone)…"
    )
    quiet_hours_end = models.TimeField(null=True, blank=True, help_text="…until this time")
    daily_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many automatic sends per day (empty: no cap)"
    )
    reply_kinds = models.JSONField(
        default=default_auto_reply_kinds,
        blank=True,
        help_text="Answers to which kinds of reply may go out on their own (e.g. never an answer to a price objection)",
    )
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "auto-send policy"
        verbose_name_plural = "auto-send policy"

    def __str__(self) -> str:
        return "Auto-send " + (f"on at {self.threshold:.2f}" if self.enabled else "off")

    @classmethod
    def current(cls) -> AutoSendPolicy:
        from django.conf import settings

        policy: AutoSendPolicy | None = AutoSendPolicy.objects.order_by("pk").first()
        if policy is None:
            policy = AutoSendPolicy(enabled=settings.AUTO_SEND_ENABLED, threshold=settings.AUTO_SEND_THRESHOLD)
        return policy

    def zone(self) -> ZoneInfo:
        """Quiet hours and the daily cap are counted on the business's clock (its profile's time zone)."""
        from bizpilot.business import business_zone

        return business_zone()

    def quiet_hours_end_after(self, *, channel: str, now: datetime) -> datetime | None:
        """When `now` falls in the quiet hours for texts, the moment they end (None: not quiet, or an email)."""
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if channel == Channel.EMAIL or not start or not end or start == end:
            return None
        local = now.astimezone(self.zone())
        quiet = start <= local.time() < end if start < end else (local.time() >= start or local.time() < end)
        if not quiet:
            return None
        resume = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
        return resume if resume > local else datetime.combine(local.date() + timedelta(days=1), end, local.tzinfo)

    def daily_cap_resets_at(self, *, now: datetime) -> datetime | None:
        """When today's cap of automatic sends is reached, the next midnight (None: no cap, or below it)."""
        from bizpilot.actors import AUTO_SEND

        if self.daily_cap is None:
            return None
        midnight = now.astimezone(self.zone()).replace(hour=0, minute=0, second=0, microsecond=0)
        if Message.objects.filter(approved_by=AUTO_SEND, approved_at__gte=midnight).count() < self.daily_cap:
            return None
        return datetime.combine(midnight.date() + timedelta(days=1), midnight.time(), midnight.tzinfo)


class Sequence(models.Model):
    """The plan of follow-ups after the first reply to a lead of one intent (at most one active per intent). It
    starts when the first reply is sent and stops at once on a reply, a conversion, an unsubscribe, a bounce or an
    operator's stop (messaging/sequences.py)."""

    name = models.CharField(max_length=200, unique=True)
    intent = models.CharField(max_length=10, choices=Intent.choices)
    active = models.BooleanField(default=True, help_text="New leads of this intent get this sequence")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intent", "name"]
        constraints = [
            models.UniqueConstraint(fields=["intent"], condition=Q(active=True), name="one_active_sequence_per_intent")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.intent})"


class SequenceStep(models.Model):
    """One follow-up of a sequence: when (after the first reply was sent), on which channel, and how it is written."""

    class StepChannel(models.TextChoices):
        SAME = "same", "The first reply's channel"
        EMAIL = "email", "Email"
        TEXT = "text", "SMS or WhatsApp (skipped without a phone number and consent to text)"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(help_text="1 for the first follow-up")
    delay = models.DurationField(help_text="How long after the first reply was sent this follow-up is due")
    channel = models.CharField(max_length=10, choices=StepChannel.choices, default=StepChannel.SAME)
    instructions = models.TextField(help_text="What the model is told to write for this follow-up")
    fallback_subject = models.CharField(max_length=300, blank=True, help_text="Email subject without an LLM")
    fallback_body = models.TextField(
        help_text="Follow-up without an LLM. Variables: first_name, company, business_name, sender_name"
    )
    whatsapp_content_sid = models.CharField(
        max_length=64,
        blank=True,
        help_text="Twilio content template (HX...) sent when this step goes by WhatsApp outside the 24-hour window",
    )
    whatsapp_content_variables = models.JSONField(
        default=dict,
        blank=True,
        help_text='The template\'s variables, e.g. {"1": "first_name", "2": "business_name"}',
    )

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [models.UniqueConstraint(fields=["sequence", "position"], name="sequence_step_position")]

    def __str__(self) -> str:
        return f"{self.sequence.name} step {self.position}"


class LeadSequence(models.Model):
    """A lead's run through a sequence."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STOPPED = "stopped", "Stopped"
        COMPLETED = "completed", "Completed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sequences")
    sequence = models.ForeignKey(Sequence, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    stop_reason = models.TextField(blank=True)
    started_at = models.DateTimeField(help_text="When the first reply was sent: every step is due from here")
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lead"], name="one_sequence_per_lead")]

    def __str__(self) -> str:
        return f"{self.sequence.name} for lead #{self.lead_id} ({self.status})"


class LeadSequenceStep(models.Model):
    """One scheduled follow-up of a lead: due at a time, drafted once (its message), or cancelled or skipped with
    the reason."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DRAFTING = "drafting", "Drafting"
        DRAFTED = "drafted", "Drafted"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"

    lead_sequence = models.ForeignKey(LeadSequence, on_delete=models.CASCADE, related_name="steps")
    step = models.ForeignKey(SequenceStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    reason = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="sequence_step"
    )

    class Meta:
        ordering = ["lead_sequence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["lead_sequence", "position"], name="lead_sequence_step_position")
        ]

    def __str__(self) -> str:
        return f"step {self.position} of lead #{self.lead_sequence.lead_id} ({self.status})"


# Experiments live in their own module (this one would pass 500 lines); imported here, so the app registers them.
from messaging.experiment_models import Experiment, ExperimentVariant  # noqa: E402, F401
from messaging.route_models import SenderRoute  # noqa: E402, F401
