"""API keys for integrations: created by `manage.py create_api_key`, stored hashed, verified on every request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
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


# Keys verified recently, by this process: {sha256 of the presented key: (the ApiKey, until when)}. A request with a
# key seen within API_KEY_CACHE_SECONDS costs no query; a revocation holds at once in the process that made it and
# within that time everywhere else.
_verified: dict[str, tuple[ApiKey, float]] = {}
_verified_lock = threading.Lock()
_VERIFIED_MAX = 1000


def api_key_verify(*, key: str) -> ApiKey | None:
    """The active ApiKey for a presented key, or None. Constant-time comparison of the secret's hash."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "bp":
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    now_monotonic = time.monotonic()
    with _verified_lock:
        known = _verified.get(digest)
    if known is not None and known[1] > now_monotonic:
        return known[0]
    _, prefix, secret = parts
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, ApiKey.hash_secret(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    if settings.API_KEY_CACHE_SECONDS > 0:
        with _verified_lock:
            if len(_verified) >= _VERIFIED_MAX:
                _verified.clear()
            _verified[digest] = (api_key, now_monotonic + settings.API_KEY_CACHE_SECONDS)
    return api_key


def api_keys_forget() -> None:
    """Forget the keys this process verified (a key was revoked)."""
    with _verified_lock:
        _verified.clear()


def api_key_revoke(*, api_key_id: int, actor: str) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_key.revoke", obj=api_key)
    api_keys_forget()
    transaction.on_commit(api_keys_forget)  # again: a request in between may have remembered the key as active
    return api_key
