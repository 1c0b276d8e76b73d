"""The webhook subscriptions' API shapes, and the event payloads as the OpenAPI schema's `webhooks` section
documents them (integrations.openapi)."""

from __future__ import annotations

from rest_framework import serializers

from bizpilot.serializers import StrictBooleanField, StrictCharField, StrictSerializer
from integrations.models import EVENT_TYPES, WebhookSubscription

# What the API accepts as a webhook URL, said once for the check and the schema: http(s), a host, a port, a path.
WEBHOOK_URL = r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?(?:/[!-~]*)?$"


class SubscriptionInput(StrictSerializer):
    name = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Empty: the URL's host"
    )
    url = serializers.RegexField(
        WEBHOOK_URL, max_length=1000, error_messages={"invalid": "Must be an http:// or https:// URL."}
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        help_text="The event types sent to this URL",
    )
    personal_data = serializers.ChoiceField(
        choices=WebhookSubscription.PersonalData.choices,
        default=WebhookSubscription.PersonalData.NONE,
        help_text="`none`: ids only; `contact`: the lead's name, email, phone and company too",
    )
    message_text = serializers.ChoiceField(
        choices=WebhookSubscription.MessageText.choices,
        default=WebhookSubscription.MessageText.NONE,
        help_text="A message's subject and body: left out, redacted, or as written",
    )
    is_active = StrictBooleanField(
        default=True, help_text="false: nothing is sent; true again: what it missed goes out, in order"
    )


class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))
    personal_data = serializers.ChoiceField(choices=WebhookSubscription.PersonalData.choices)
    message_text = serializers.ChoiceField(choices=WebhookSubscription.MessageText.choices)
    is_active = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(help_text="Why BizPilot turned it off (410 Gone, 24 hours failing)")
    created_at = serializers.DateTimeField()


class SubscriptionCreatedOutput(SubscriptionOutput):
    secret = serializers.CharField(
        help_text="whsec_…: verify each request's webhook-signature with it. Shown here once (and in the admin)."
    )


# --- The event payloads ---------------------------------------------------------------------------------------------


class WebhookLead(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(required=False)
    intent = serializers.CharField(required=False, allow_null=True, help_text="hot, warm or cold; null before")
    intent_confidence = serializers.FloatField(required=False, allow_null=True)
    source = serializers.CharField(required=False)  # type: ignore[assignment]  # DRF's Field.source in the stubs
    channel = serializers.CharField(required=False, help_text="The channel the lead is answered on")
    created_at = serializers.DateTimeField(required=False)
    meeting_booked_at = serializers.DateTimeField(required=False, allow_null=True)
    converted_at = serializers.DateTimeField(required=False, allow_null=True)
    name = serializers.CharField(required=False, help_text="Only with personal_data=contact (also email, phone, …)")
    email = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    company = serializers.CharField(required=False)


class WebhookClassification(serializers.Serializer):
    id = serializers.IntegerField()
    intent = serializers.CharField()
    confidence = serializers.FloatField()


class WebhookIntentChange(serializers.Serializer):
    intent = serializers.CharField()
    previous_intent = serializers.CharField()


class WebhookMessage(serializers.Serializer):
    id = serializers.IntegerField()
    channel = serializers.CharField()
    status = serializers.CharField()
    generated_by = serializers.CharField()
    reply_kind = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    subject = serializers.CharField(required=False, help_text="Only with message_text redacted or full (also body)")
    body = serializers.CharField(required=False)


class WebhookInbound(serializers.Serializer):
    id = serializers.IntegerField()


class WebhookMeeting(serializers.Serializer):
    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # DRF's Field.source in the stubs
