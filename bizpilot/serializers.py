"""Strict input serializers for every app's API: wrong types and unknown fields are errors, not silently coerced or
ignored."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

# What counts as blank: the whitespace of JSON Schema's (ECMAScript's) \s, so the API's schema (NOT_BLANK in
# bizpilot.openapi) and the services agree. Python's own str.strip() also strips \x1c-\x1f and \x85, which the
# schema counts as text.
BLANK = " \t\n\r\v\f\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(map(chr, range(0x2000, 0x200B)))


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only (DRF would take 0, 1, "yes", "off", ...: the schema says boolean)."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictEmailField(serializers.EmailField):
    default_error_messages = {"invalid_type": "Must be a string.", "invalid": "Enter a valid email address."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_type")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Unknown fields are errors, reported together with every other field's error."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        if isinstance(data, dict):
            allowed = ", ".join(sorted(self.fields))
            errors = {name: [f"Unknown field. Allowed: {allowed}."] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value
