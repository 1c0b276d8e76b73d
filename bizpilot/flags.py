"""Feature flags: the admin's run-time switches (LLM, auto-send, PII redaction, holdout share), read by every app.
A process keeps what it read for FLAGS_CACHE_SECONDS, so the pipeline does not ask the database on every call;
a change is seen by every process within that time (at once in the process that saved it)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from bizpilot.models import FeatureFlags
from bizpilot.settings_rows import settings_row_save

FLAG_FIELDS = ("llm", "auto_send", "pii_redaction", "holdout_share")


@dataclass(frozen=True)
class Flags:
    llm: bool
    auto_send: bool
    pii_redaction: bool
    holdout_share: float


_cache: tuple[float, Flags | None] | None = None
_lock = threading.Lock()


def flags() -> Flags:
    """The flags in effect: the admin's row, else the environment's defaults (read live, never cached)."""
    global _cache
    now = time.monotonic()
    cached = _cache
    if cached is None or now - cached[0] >= settings.FLAGS_CACHE_SECONDS:
        row = FeatureFlags.objects.order_by("pk").first()
        stored = (
            Flags(
                llm=row.llm, auto_send=row.auto_send, pii_redaction=row.pii_redaction, holdout_share=row.holdout_share
            )
            if row is not None
            else None
        )
        with _lock:
            _cache = cached = (now, stored)
    if cached[1] is not None:
        return cached[1]
    return Flags(llm=True, auto_send=True, pii_redaction=settings.PII_REDACTION, holdout_share=0.0)


def flags_forget() -> None:
    """Read the flags again on the next call (after a save, and between tests)."""
    global _cache
    with _lock:
        _cache = None


def flags_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    share = values.get("holdout_share")
    if share is not None and not 0 <= float(share) <= 0.5:
        return {"holdout_share": ["Give a share from 0 to 0.5 (for example 0.1 for one lead in ten)."]}
    return {}


def flags_save(*, values: dict[str, Any], actor: str, user: Any = None) -> FeatureFlags:
    """Change the flags (admins only), with an audit row of before and after."""
    row = settings_row_save(
        model=FeatureFlags,
        fields=FLAG_FIELDS,
        values=values,
        actor=actor,
        user=user,
        permission=("bizpilot.change_featureflags", "change the feature flags"),
        validate=flags_validate,
        invalid="Invalid feature flags.",
        action="feature_flags.change",
        default=lambda: FeatureFlags(**asdict(flags())),
        shown=lambda value: value,  # booleans and a number: kept as they are
    )
    transaction.on_commit(flags_forget)
    flags_forget()
    return row
