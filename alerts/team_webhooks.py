"""Team chat incoming webhooks: Slack, Microsoft Teams, Google Chat. Each is one HTTPS POST of JSON in the chat's own
format; the message names the item and links to it, never quoting the lead.

- Slack: `{"text": ..., "blocks": [...]}`; answers 200 "ok", or 400 invalid_payload, 403, 404 no_service,
  410 channel_is_archived, 429 with Retry-After.
- Microsoft Teams (incoming webhook or a Workflows "post to a channel when a webhook request is received"): a
  message with an Adaptive Card attachment.
- Google Chat: `{"text": ...}`, links written `<url|label>`."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings

from alerts.content import AlertText
from alerts.models import TeamWebhook
from messaging.channels import PermanentSendError, SendResult, TransientSendError


def payload(kind: str, text: AlertText) -> dict[str, Any]:
    headline = text.body.splitlines()[0]
    if kind == TeamWebhook.Kind.SLACK:
        return {
            "text": f"{headline} <{text.url}|Open in BizPilot>",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"type": "plain_text", "text": "Open in BizPilot"}, "url": text.url}
                    ],
                },
            ],
        }
    if kind == TeamWebhook.Kind.TEAMS:
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [{"type": "TextBlock", "text": headline, "weight": "Bolder", "wrap": True}],
                        "actions": [{"type": "Action.OpenUrl", "title": "Open in BizPilot", "url": text.url}],
                    },
                }
            ],
        }
    if kind == TeamWebhook.Kind.GOOGLE_CHAT:
        return {"text": f"*{headline}* <{text.url}|Open in BizPilot>"}
    raise ValueError(f"unknown team webhook kind {kind!r}")


def team_post(*, webhook: TeamWebhook, text: AlertText) -> SendResult:
    """POST the alert; raises TransientSendError (unreachable, 429, 5xx) or PermanentSendError (any other refusal)."""
    try:
        response = requests.post(
            webhook.url, json=payload(webhook.kind, text), timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        raise TransientSendError(f"{webhook.get_kind_display()} unreachable: {exc}") from exc
    answer = response.text[:200]
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientSendError(f"{webhook.get_kind_display()} HTTP {response.status_code}: {answer}")
    if response.status_code >= 300:
        raise PermanentSendError(f"{webhook.get_kind_display()} HTTP {response.status_code}: {answer}")
    return SendResult(provider=webhook.kind, provider_message_id=response.headers.get("x-slack-req-id", ""))
