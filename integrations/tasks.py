"""django-q2 jobs of the integrations app: thin wrappers over one service each."""

from __future__ import annotations

from integrations.crm import crm_sync_due
from integrations.delivery import webhooks_dispatch
from integrations.notices import admins_tell_crm_paused, admins_tell_disabled


def dispatch_webhooks() -> int:
    return webhooks_dispatch()


def tell_admins_disabled(subscription_id: int) -> int:
    return admins_tell_disabled(subscription_id=subscription_id)


def sync_crm() -> int:
    return crm_sync_due()


def tell_admins_crm_paused(connection_id: int) -> int:
    return admins_tell_crm_paused(connection_id=connection_id)
