"""What every install needs before its first lead, demo or not: the shared labelled intent examples (every business
classifies with them, and with its own), an admin and an operator login, and an API key. Idempotent: the
credentials are kept in the data directory (mode 600) and printed the same every time."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from bizpilot import embedded_db
from bizpilot.actors import SEED_DEMO
from intelligence.examples import intent_examples_add
from intelligence.seed_set import seed_examples
from leads.api_keys import api_key_create, api_key_revoke, api_key_verify
from leads.models import ApiKey

DEMO_KEY_NAME = "demo"
ADMIN_USERNAME = "admin"
OPERATOR_USERNAME = "operator"


def install_ensure(*, write: Callable[[str], object]) -> None:
    examples = seed_examples()
    added = intent_examples_add(examples=examples)
    write(f"Shared intent examples: {added} new of {len(examples)}.")
    credentials_file = embedded_db.data_dir() / "demo-credentials.json"
    saved = _read(credentials_file)
    password = _ensure_user(ADMIN_USERNAME, saved.get("admin_password"), admin=True)
    operator_password = _ensure_user(OPERATOR_USERNAME, saved.get("operator_password"), admin=False)
    key = _ensure_api_key(saved.get("api_key"))
    if password:
        saved["admin_password"] = password
    if operator_password:
        saved["operator_password"] = operator_password
    saved["api_key"] = key
    _write(credentials_file, saved)
    for username, secret, role in [
        (ADMIN_USERNAME, password, "Admin"),
        (OPERATOR_USERNAME, operator_password, "Operator"),
    ]:
        if secret:
            write(f"{role} login: {username} / {secret}")
        else:
            write(f"{role} login: {username} (password changed by you; left as it is)")
    write(f"API key: {key}")


def _ensure_user(username: str, saved_password: str | None, *, admin: bool) -> str | None:
    """Create the user with a random password (the admin a superuser, the operator in the Operators group);
    keep an existing one. Returns the password if it is known."""
    from django.contrib.auth.models import Group

    from bizpilot.access import OPERATORS_GROUP, ensure_operators_group

    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        email = f"{username}@northwind.example"
        if admin:
            user_model.objects.create_superuser(username, email, password)
        else:
            ensure_operators_group()
            user = user_model.objects.create_user(username, email, password, is_staff=True)
            user.groups.add(Group.objects.get(name=OPERATORS_GROUP))
        return password
    if saved_password and user.check_password(saved_password):
        return saved_password
    return None


def _ensure_api_key(saved_key: str | None) -> str:
    """One active demo key. Its secret is only in .data/ (stored hashed in the database); if that copy is lost,
    the old key is revoked and a new one made."""
    if saved_key:
        api_key = api_key_verify(key=saved_key)
        if api_key is not None and api_key.name == DEMO_KEY_NAME:
            return saved_key
    with transaction.atomic():
        for old in ApiKey.objects.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(api_key_id=old.pk, actor=SEED_DEMO)
        _, key = api_key_create(name=DEMO_KEY_NAME)
    return key


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
