"""Telling the admins that a webhook subscription was disabled, or a CRM connection paused: an email to every active
alert recipient marked as an admin (Alerts → Alert recipients), else to the sender address."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from alerts.models import AlertRecipient
from bizpilot.business import business
from integrations.models import CrmConnection, WebhookSubscription


def _admins() -> list[str]:
    return list(
        AlertRecipient.objects.filter(is_active=True, is_admin=True).exclude(email="").values_list("email", flat=True)
    ) or [settings.DEFAULT_FROM_EMAIL]


def admins_tell_disabled(*, subscription_id: int) -> int:
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None or subscription.is_active:
        return 0
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "admin:integrations_webhooksubscription_change", args=[subscription.pk]
    )
    return send_mail(
        subject=f"{business().name}: webhook '{subscription.name}' was turned off",
        message=(
            f"BizPilot stopped sending webhooks to {subscription.url}: {subscription.disabled_reason}.\n"
            "Nothing is lost: what it did not receive is kept and goes out, in order, once you turn it back on:\n"
            f"{link}"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=_admins(),
    )


def admins_tell_crm_paused(*, connection_id: int) -> int:
    connection = CrmConnection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status == CrmConnection.Status.OK:
        return 0
    link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "admin:integrations_crmconnection_change", args=[connection.pk]
    )
    return send_mail(
        subject=f"{business().name}: {connection} sync is paused",
        message=(
            f"BizPilot stopped sending leads to {connection}: {connection.status_detail}.\n"
            "Nothing is lost: the leads that changed are kept and go out once a new token is saved here:\n"
            f"{link}"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=_admins(),
    )
