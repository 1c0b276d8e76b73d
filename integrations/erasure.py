"""Erasing a person from the webhooks: what their events said (and every request body logged) is emptied down to
the ids, and `lead.erased` is sent so that downstream systems erase them too (ids only: nothing to identify them)."""

from __future__ import annotations

from integrations.events import webhook_event_record
from integrations.models import WebhookAttempt, WebhookEvent


def person_erase(*, lead_ids: list[int]) -> dict[str, int]:
    events = WebhookEvent.objects.filter(lead_id__in=lead_ids)
    changed = {
        "integrations.WebhookEvent": events.update(data={}),
        "integrations.WebhookAttempt": WebhookAttempt.objects.filter(delivery__event__lead_id__in=lead_ids).update(
            request_body="", response_body=""
        ),
    }
    for lead_id in lead_ids:
        webhook_event_record(
            type="lead.erased", key=f"lead.erased:{lead_id}", lead_id=lead_id, data={"lead": {"id": lead_id}}
        )
    return changed
