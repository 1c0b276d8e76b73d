"""What a subscription receives: the Standard Webhooks body {"type", "timestamp", "data"}, holding no more personal
data than it is set to include. The lead's contact details only with `personal_data=contact`; message text left
out, redacted, or as written by `message_text`."""

from __future__ import annotations

import json
from typing import Any

from integrations.models import WebhookEvent, WebhookSubscription
from intelligence.redaction import Redactor

CONTACT_FIELDS = ("name", "email", "phone", "company")
TEXT_FIELDS = ("subject", "body")


def webhook_body(event: WebhookEvent, subscription: WebhookSubscription) -> str:
    data = json.loads(json.dumps(event.data))  # a deep copy
    lead = data.get("lead") or {}
    contact = {field: lead.get(field, "") for field in CONTACT_FIELDS}
    if subscription.personal_data != WebhookSubscription.PersonalData.CONTACT:
        for field in CONTACT_FIELDS:
            lead.pop(field, None)
    message = data.get("message")
    if isinstance(message, dict):
        for field in TEXT_FIELDS:
            if field not in message:
                continue
            if subscription.message_text == WebhookSubscription.MessageText.NONE:
                message.pop(field)
            elif subscription.message_text == WebhookSubscription.MessageText.REDACTED:
                message[field] = _redacted(str(message[field]), contact)
    body: dict[str, Any] = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def _redacted(text: str, contact: dict[str, str]) -> str:
    redactor = Redactor(name=contact.get("name", ""))
    text = redactor.redact(text)
    for value in (contact.get("email", ""), contact.get("phone", ""), contact.get("company", "")):
        if value:
            text = text.replace(value, "[REDACTED]")
    return text
