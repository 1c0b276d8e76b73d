"""The `webhooks` section of the OpenAPI schema: one entry per event type, each a POST with the Standard Webhooks
headers and the body `{"type", "timestamp", "data"}` that event carries. drf-spectacular reads WEBHOOKS from here
(SPECTACULAR_SETTINGS)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema, inline_serializer
from rest_framework import serializers

from integrations.serializers import (
    WebhookClassification,
    WebhookInbound,
    WebhookIntentChange,
    WebhookLead,
    WebhookMeeting,
    WebhookMessage,
)

# What each event's `data` holds besides `lead`.
EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "lead.created": ("A lead arrived (any channel).", {}),
    "lead.classified": ("A lead's intent was decided.", {"classification": WebhookClassification()}),
    "lead.intent_changed": ("A lead's intent changed (a reply, a correction).", {"change": WebhookIntentChange()}),
    "message.drafted": ("A reply or an answer was drafted.", {"message": WebhookMessage()}),
    "message.sent": ("A message was sent.", {"message": WebhookMessage()}),
    "message.delivered": ("A message was delivered.", {"message": WebhookMessage()}),
    "message.bounced": ("A message bounced.", {"message": WebhookMessage()}),
    "lead.replied": ("The lead wrote back.", {"inbound_message": WebhookInbound()}),
    "meeting.booked": ("The lead booked a meeting.", {"meeting": WebhookMeeting()}),
    "lead.converted": ("The lead became a customer.", {}),
    "lead.lost": ("The lead was marked lost.", {}),
    "lead.erased": ("The person was erased (GDPR): erase them too. `lead` holds only the id.", {}),
}
HEADERS = {
    "webhook-id": "The event's id: the same on every retry (process each once)",
    "webhook-timestamp": "When it was signed, in seconds since 1970 (refuse one more than 5 minutes off)",
    "webhook-signature": "v1,<base64 HMAC-SHA256 of `id.timestamp.body`> with the subscription's whsec_ secret",
}


def _body(event: str, extra: dict[str, Any]) -> serializers.Serializer:
    name = "".join(part.capitalize() for part in event.replace(".", "_").split("_"))
    data = inline_serializer(f"{name}Data", {"lead": WebhookLead(), **extra})
    return inline_serializer(
        f"{name}Event",
        {
            "type": serializers.ChoiceField(choices=[event]),
            "timestamp": serializers.DateTimeField(help_text="When it happened"),
            "data": data,
        },
    )


WEBHOOKS = [
    OpenApiWebhook(
        name=event,
        decorator=extend_schema(
            summary=event,
            description=f"{text} Sent to each subscription listening to `{event}`; answer 2xx within 10 s.",
            request=_body(event, extra),
            responses={200: OpenApiResponse(description="Received (any 2xx). Anything else is tried again")},
        ),
    )
    for event, (text, extra) in EVENTS.items()
]


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The Standard Webhooks headers on every event (drf-spectacular leaves a webhook's parameters out)."""
    for path_item in result.get("webhooks", {}).values():
        for operation in path_item.values():
            operation["parameters"] = [
                {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
                for name, text in HEADERS.items()
            ]
    return result
