"""API keys for integrations: created by `manage.py create_api_key`, stored hashed, verified on every request."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from bizpilot.actors import CLI
from bizpilot.audit import audit_record
from bizpilot.errors import ValidationFailed
from leads.models import ApiKey


def api_key_create(*, name: str) -> tuple[ApiKey, str]:
    """Create a key; return the row and the full key, which is never stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ValidationFailed("An API key needs a name.", fields={"name": ["This field may not be blank."]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=ApiKey.hash_secret(secret))
        audit_record(actor=CLI, action="api_key.create", obj=api_key, after={"name": name})
    return api_key, f"bp_{prefix}_{secret}"


def api_key_verify(*, key: str) -> ApiKey | None:
    """The active ApiKey for a presented key, or None. Constant-time comparison of the secret's hash."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "bp":
        return None
    _, prefix, secret = parts
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, ApiKey.hash_secret(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def api_key_revoke(*, api_key_id: int, actor: str) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_key.revoke", obj=api_key)
    return api_key
