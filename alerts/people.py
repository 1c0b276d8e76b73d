"""Saving who hears about what: a person's alert settings and the team channels, validated and audited."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.forms.models import model_to_dict

from alerts.models import AlertRecipient, TeamWebhook
from bizpilot.audit import audit_record
from bizpilot.business import time_zone_problem
from bizpilot.errors import ValidationFailed

INTENTS = ("hot", "warm", "cold")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}  # a relay on this machine may speak plain HTTP
CHANNELS = tuple(AlertRecipient.Channel.values)


def alert_recipient_validate(recipient: AlertRecipient) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not set(recipient.intents) <= set(INTENTS) or not recipient.intents:
        problems["intents"] = ["Choose at least one of hot, warm, cold."]
    if not set(recipient.channels) <= set(CHANNELS):
        problems["channels"] = [f"Channels are {', '.join(CHANNELS)}."]
    if "email" in recipient.channels and not recipient.email:
        problems["email"] = ["An email address is needed for email alerts."]
    if "sms" in recipient.channels and not recipient.phone.startswith("+"):
        problems["phone"] = ["A phone number in international form (+447700900123) is needed for text alerts."]
    if problem := time_zone_problem(recipient.time_zone):
        problems["time_zone"] = [problem]
    if (recipient.quiet_from is None) != (recipient.quiet_until is None):
        problems["quiet_until"] = ["Give both ends of the quiet hours, or neither."]
    if recipient.digest_hour > 23:
        problems["digest_hour"] = ["An hour of the day: 0 to 23."]
    return problems


def alert_recipient_save(*, recipient: AlertRecipient, actor: str) -> AlertRecipient:
    """Save a person's alert settings; raises ValidationFailed with field-level messages."""
    if problems := alert_recipient_validate(recipient):
        raise ValidationFailed("These alert settings cannot be saved.", fields=problems)
    return _save_audited(recipient, actor, "alerts.recipient_saved")


def team_webhook_save(*, webhook: TeamWebhook, actor: str) -> TeamWebhook:
    if not set(webhook.intents) <= set(INTENTS) or not webhook.intents:
        raise ValidationFailed("This channel cannot be saved.", fields={"intents": ["Choose hot, warm or cold."]})
    host = urlsplit(webhook.url).hostname or ""
    if not webhook.url.startswith("https://") and host not in LOCAL_HOSTS:
        raise ValidationFailed("This channel cannot be saved.", fields={"url": ["Webhook URLs start with https://."]})
    return _save_audited(webhook, actor, "alerts.team_webhook_saved", hide={"url"})


def _save_audited(obj: Any, actor: str, action: str, hide: frozenset[str] | set[str] = frozenset()) -> Any:
    with transaction.atomic():
        obj.save()
        after = {k: v for k, v in model_to_dict(obj).items() if k not in hide}
        audit_record(actor=actor, action=action, obj=obj, after={k: _plain(v) for k, v in after.items()})
    return obj


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | list | dict | type(None)) else str(value)


def demo_people_ensure(*, admin: str, operator: str) -> int:
    """The demo's alerts: the operator on duty (email and browser), the admin told last. Only when nobody is set up."""
    from django.contrib.auth import get_user_model

    if AlertRecipient.objects.exists():
        return 0
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=[admin, operator])}
    AlertRecipient.objects.create(
        name="Operator (demo)",
        user=users.get(operator),
        email="operator@northwind.example",
        channels=["email", "browser"],
    )
    AlertRecipient.objects.create(
        name="Admin (demo)",
        user=users.get(admin),
        email="admin@northwind.example",
        on_duty=False,
        is_admin=True,
        channels=["email", "browser"],
    )
    return 2
