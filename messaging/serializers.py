from __future__ import annotations

from rest_framework import serializers

from bizpilot.pagination import PageQuery
from bizpilot.serializers import BLANK, StrictCharField, StrictSerializer
from intelligence.models import DecidedBy, SenderKind
from messaging.models import LeadSequence, Message


class InboundMessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    received_at = serializers.DateTimeField()


class SequenceStepOutput(serializers.Serializer):
    position = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    channel = serializers.CharField(help_text="email, sms or whatsapp; empty when the step is skipped")
    status = serializers.CharField(
        help_text="scheduled, drafting, skipped or cancelled; once drafted, its message's status (pending_review, "
        "approved, sent, delivered, cancelled, ...)"
    )
    reason = serializers.CharField(help_text="Why the step was skipped or cancelled")
    message_id = serializers.IntegerField(allow_null=True)


class SequenceOutput(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=LeadSequence.Status.choices)
    stop_reason = serializers.CharField()
    started_at = serializers.DateTimeField()
    stopped_at = serializers.DateTimeField(allow_null=True)
    steps = SequenceStepOutput(many=True)


class SequenceStopInput(StrictSerializer):
    reason = StrictCharField(required=False, allow_blank=True, max_length=500, default="")


class LeadOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    company = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF's Field.source in the stubs
    state = serializers.CharField()
    intent = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    explanation = serializers.JSONField(allow_null=True)
    snippets = serializers.JSONField()
    sender_kind = serializers.ChoiceField(
        choices=SenderKind.choices, allow_null=True, help_text="Who wrote, as read: a prospect or not"
    )
    language = serializers.CharField(allow_null=True, help_text="ISO 639-1 code of the language the lead wrote in")
    decided_by = serializers.ChoiceField(
        choices=DecidedBy.choices,
        allow_null=True,
        help_text="Which decided the intent: the local classifier, the LLM (arbitration) or the scam rule",
    )
    unfamiliar = serializers.ListField(
        child=serializers.CharField(), help_text="Why the lead is unlike the labelled examples (lowers confidence)"
    )
    last_error = serializers.CharField()
    inbound_messages = InboundMessageOutput(many=True)
    message_ids = serializers.ListField(child=serializers.IntegerField())
    sequence = SequenceOutput(allow_null=True, help_text="The lead's follow-up sequence, once its first reply was sent")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MessageOutput(serializers.ModelSerializer):
    intent = serializers.CharField(source="lead.intent")
    lead_name = serializers.CharField(source="lead.name")
    edited = serializers.BooleanField(source="was_edited")
    cost_usd = serializers.DecimalField(
        source="model_call.cost_usd", max_digits=12, decimal_places=6, allow_null=True, read_only=True, default=None
    )
    sender_kind = serializers.CharField(source="classification.kind", allow_null=True, read_only=True, default=None)
    language = serializers.CharField(source="classification.language", allow_null=True, read_only=True, default=None)
    decided_by = serializers.CharField(
        source="classification.decided_by", allow_null=True, read_only=True, default=None
    )
    prompt_template = serializers.CharField(
        read_only=True, allow_null=True, source="prompt_template.__str__", default=None
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "lead",
            "lead_name",
            "intent",
            "channel",
            "to_address",
            "status",
            "subject",
            "body",
            "original_subject",
            "original_body",
            "edited",
            "edit_size",
            "generated_by",
            "generation_reason",
            "reply_kind",
            "answers",
            "prompt_template",
            "draft_confidence",
            "sender_kind",
            "language",
            "decided_by",
            "cost_usd",
            "checks_failed",
            "injection_signals",
            "auto_send_decision",
            "approved_by",
            "approved_at",
            "reviewed_by",
            "rejected_reason",
            "sent_at",
            "provider_message_id",
            "last_error",
            "created_at",
            "updated_at",
        ]


class MessageListQuery(PageQuery):
    status = serializers.ChoiceField(choices=Message.Status.choices, required=False)


class ReviewApproveInput(StrictSerializer):
    """Approve the draft as it is."""

    action = serializers.ChoiceField(choices=["approve"])
    reason = StrictCharField(required=False, allow_blank=True, max_length=2000)


class ReviewEditInput(StrictSerializer):
    """Approve new text: the body (and optionally the subject)."""

    action = serializers.ChoiceField(choices=["edit"])
    body = StrictCharField(required=False, allow_blank=True, max_length=20_000, trim_whitespace=False)
    subject = StrictCharField(required=False, allow_blank=True, max_length=300, trim_whitespace=False)
    reason = StrictCharField(required=False, allow_blank=True, max_length=2000)


class ReviewRejectInput(StrictSerializer):
    """Reject the draft, with a reason."""

    action = serializers.ChoiceField(choices=["reject"])
    reason = StrictCharField(required=False, allow_blank=True, max_length=2000)


class MessageReviewInput(StrictSerializer):
    action = serializers.ChoiceField(choices=["approve", "edit", "reject"])
    subject = StrictCharField(required=False, allow_blank=True, max_length=300, trim_whitespace=False)
    body = StrictCharField(required=False, allow_blank=True, max_length=20_000, trim_whitespace=False)
    reason = StrictCharField(required=False, allow_blank=True, max_length=2000, default="")

    # The schema says both with bizpilot.openapi.NOT_BLANK: new text says something, and a subject given is one
    # (leave it out to keep the draft's). Blank is what JSON Schema's \s calls blank (bizpilot.serializers.BLANK).
    def validate_body(self, value: str) -> str:
        if not value.strip(BLANK):
            raise serializers.ValidationError("The reply cannot be empty.")
        return value

    def validate_subject(self, value: str) -> str:
        if not value.strip(BLANK):
            raise serializers.ValidationError("A subject cannot be empty: leave it out to keep the draft's.")
        return value

    def validate(self, attrs):
        if attrs["action"] == "edit" and "body" not in attrs and "subject" not in attrs:
            raise serializers.ValidationError({"body": ["An edit needs a new body or subject."]})
        if attrs["action"] != "edit" and ("body" in attrs or "subject" in attrs):
            field = "body" if "body" in attrs else "subject"
            raise serializers.ValidationError({field: ["Only the edit action takes new text."]})
        return attrs


class DeliveryEventOutput(serializers.Serializer):
    type = serializers.CharField(help_text="sent, delivered, opened, clicked, bounced, ...")
    at = serializers.DateTimeField()
    machine = serializers.BooleanField(help_text="A machine open or a link scanner's click: kept, not engagement")
    why = serializers.CharField(help_text="Why it was taken for a machine")


class ReplyReadingOutput(serializers.Serializer):
    kind = serializers.CharField()
    confidence = serializers.FloatField()
    also = serializers.ListField(child=serializers.CharField())
    change = serializers.CharField(help_text="What the reply changed (intent, stage), and why")
    outcome = serializers.CharField(help_text="The answer drafted, or why none was")


class ConversationItemOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["inbound", "outbound", "note", "meeting"])
    id = serializers.IntegerField()
    at = serializers.DateTimeField(help_text="Received, sent (or drafted, while not sent), written, or booked")
    channel = serializers.CharField(required=False, help_text="inbound and outbound")
    subject = serializers.CharField(required=False)
    body = serializers.CharField()
    from_address = serializers.CharField(required=False, help_text="inbound: a sender other than the lead")
    automated_reason = serializers.CharField(required=False, help_text="inbound: why it is an auto-reply")
    reply_kind = serializers.CharField(
        required=False, help_text="inbound: how the reply was read; outbound: the kind of reply it answers"
    )
    reading = ReplyReadingOutput(required=False, allow_null=True)
    status = serializers.CharField(
        required=False,
        help_text="outbound: pending_review, approved, sending, sent, delivered, rejected, failed, ...; "
        "meeting: booked or cancelled",
    )
    generated_by = serializers.CharField(required=False, help_text="outbound: llm, fallback, holdout or person")
    approved_by = serializers.CharField(required=False)
    reviewed_by = serializers.CharField(required=False)
    answers = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="outbound: the inbound messages it answers"
    )
    events = DeliveryEventOutput(many=True, required=False)
    author = serializers.CharField(required=False, help_text="note: who wrote it")
    starts_at = serializers.DateTimeField(required=False, help_text="meeting: when it starts")
    ends_at = serializers.DateTimeField(required=False, help_text="meeting: when it ends")
    source = serializers.CharField(  # type: ignore[assignment]  # DRF's Field.source in the stubs
        required=False, help_text="meeting: bizpilot (booked in a reply), person, calcom or calendly"
    )


class ConversationQuery(PageQuery):
    """The conversation's page: `limit` and `offset`."""


class MessageComposeInput(StrictSerializer):
    channel = serializers.ChoiceField(choices=["email", "sms", "whatsapp"])
    subject = StrictCharField(required=False, allow_blank=True, max_length=300, default="")
    body = StrictCharField(max_length=20_000, trim_whitespace=False)
    whatsapp_content_sid = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text="WhatsApp outside the 24-hour window: an approved Twilio content template (HX...)",
    )
