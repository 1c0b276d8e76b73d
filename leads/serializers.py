"""The leads API's input and output (strict: wrong types and unknown fields are errors)."""

from __future__ import annotations

import json
import re

from rest_framework import serializers

from bizpilot.serializers import StrictCharField, StrictEmailField, StrictSerializer
from leads.contacts import InvalidPhone, normalize_phone
from leads.models import Intent, Lead

MAX_MESSAGE_CHARS = 10_000
MAX_METADATA_BYTES = 10_000
_PHONE = re.compile(r"^\+?[0-9 ().\-]{7,32}$")


class LeadCreateInput(StrictSerializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    company = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    subject = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    message = StrictCharField(
        max_length=MAX_MESSAGE_CHARS, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    # A field named `source` shadows DRF's Field.source in the stubs; at run time DRF reads it as a field.
    source = StrictCharField(max_length=50, required=False, allow_blank=False, default="api")  # type: ignore[assignment]
    metadata = serializers.DictField(required=False, default=dict)

    def validate_phone(self, value: str) -> str:
        value = value.strip()
        if value and (not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 7):
            raise serializers.ValidationError("Enter a phone number of 7 to 15 digits, optionally starting with +.")
        try:
            return normalize_phone(value)
        except InvalidPhone as exc:
            raise serializers.ValidationError(f"Enter a valid phone number. {exc}") from exc

    def validate_metadata(self, value: dict) -> dict:
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise serializers.ValidationError(f"Keep metadata under {MAX_METADATA_BYTES} bytes of JSON.")
        return value

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("phone"):
            msg = "Provide an email address or a phone number."
            raise serializers.ValidationError({"email": [msg], "phone": [msg]})
        return attrs


class LeadAcceptedOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=["new", "attached", "reply", "duplicate"],
        help_text="new lead; message attached to the known person's lead; a reply to us; a repeat delivery",
    )
    url = serializers.CharField()


class LeadCsvQuery(StrictSerializer):
    """The CSV export's filters (query parameters)."""

    state = serializers.ChoiceField(choices=Lead.State.choices, required=False)
    intent = serializers.ChoiceField(choices=Intent.choices, required=False)
    source = StrictCharField(max_length=50, required=False)  # type: ignore[assignment]  # (as `source` in LeadCreateInput)
    created_after = serializers.DateField(required=False)
    created_before = serializers.DateField(required=False)
