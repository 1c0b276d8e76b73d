"""Webhook subscriptions made, changed and removed through the API (the admin edits the same rows): audited, and
permission-checked for a person (an API key is authorised by itself). Turning one back on resumes what it missed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from bizpilot.access import require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import NotFound
from integrations.delivery import webhook_subscription_enable
from integrations.models import WebhookSubscription

AUDITED = ("name", "url", "events", "personal_data", "message_text", "is_active")


def _audited(subscription: WebhookSubscription) -> dict[str, Any]:
    return {field: getattr(subscription, field) for field in AUDITED}


def _get(subscription_id: int, *, lock: bool = False) -> WebhookSubscription:
    rows = WebhookSubscription.objects.select_for_update() if lock else WebhookSubscription.objects
    subscription = rows.filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(f"Webhook subscription {subscription_id} does not exist.")
    return subscription


def webhook_subscription_get(*, subscription_id: int, user: Any = None) -> WebhookSubscription:
    require_permission(user, "integrations.view_webhooksubscription", "see webhook subscriptions")
    return _get(subscription_id)


def webhook_subscription_list(*, user: Any = None):
    require_permission(user, "integrations.view_webhooksubscription", "see webhook subscriptions")
    return WebhookSubscription.objects.order_by("id")


def webhook_subscription_create(*, values: dict[str, Any], actor: str, user: Any = None) -> WebhookSubscription:
    require_permission(user, "integrations.add_webhooksubscription", "add webhook subscriptions")
    values = {**values, "events": list(dict.fromkeys(values["events"]))}
    values["name"] = values.get("name") or urlsplit(values["url"]).hostname or values["url"]
    with transaction.atomic():
        subscription = WebhookSubscription.objects.create(**values, created_by=actor)
        audit_record(actor=actor, action="webhook_subscription.created", obj=subscription, after=_audited(subscription))
    return subscription


def webhook_subscription_update(
    *, subscription_id: int, values: dict[str, Any], actor: str, user: Any = None
) -> WebhookSubscription:
    require_permission(user, "integrations.change_webhooksubscription", "change webhook subscriptions")
    if "events" in values:
        values = {**values, "events": list(dict.fromkeys(values["events"]))}
    with transaction.atomic():
        subscription = _get(subscription_id, lock=True)
        before = _audited(subscription)
        turning_on = values.get("is_active") and not subscription.is_active
        for field, value in values.items():
            if field == "is_active" and turning_on:
                continue  # webhook_subscription_enable turns it on, and resumes what it missed
            setattr(subscription, field, value)
        if not subscription.name:
            subscription.name = urlsplit(subscription.url).hostname or subscription.url
        subscription.save()
        audit_record(
            actor=actor,
            action="webhook_subscription.changed",
            obj=subscription,
            before=before,
            after=_audited(subscription),
        )
    if turning_on:
        subscription = webhook_subscription_enable(subscription_id=subscription.pk, actor=actor)
    return subscription


def webhook_subscription_delete(*, subscription_id: int, actor: str, user: Any = None) -> None:
    require_permission(user, "integrations.delete_webhooksubscription", "remove webhook subscriptions")
    with transaction.atomic():
        subscription = _get(subscription_id, lock=True)
        audit_record(
            actor=actor, action="webhook_subscription.deleted", obj=subscription, before=_audited(subscription)
        )
        subscription.delete()
