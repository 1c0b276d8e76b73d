"""Which embedding model's vectors the queries use. The active model is the one that embedded what is stored; when
settings.EMBEDDING_MODEL names another, `manage.py reembed` (started by `make run`) embeds everything again for it
beside the old vectors, and switches in one transaction when all are done (reembedding.py). Until then every
process keeps embedding leads with the active model, so a lead is never compared with another model's vectors."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import Count

from intelligence.models import EmbeddingState, IntentExample, KnowledgeChunk, VoiceExample

# How long a process trusts what it read (another process may have switched the model meanwhile).
CHECK_SECONDS = 3.0
_lock = threading.Lock()
_cached: tuple[float, str] | None = None


def embedding_state() -> EmbeddingState:
    """The one state row, created on first use: active is the model most stored vectors came from, or the configured
    model when nothing is stored yet. Processes starting together may all create it: the first insert wins and the
    others' are ignored (ON CONFLICT DO NOTHING), so none of them fails (a worker's first job once did)."""
    state = EmbeddingState.objects.order_by("pk").first()
    if state is not None:
        return state
    first = EmbeddingState(pk=1, active_model=_stored_model() or settings.EMBEDDING_MODEL)
    EmbeddingState.objects.bulk_create([first], ignore_conflicts=True)
    return EmbeddingState.objects.order_by("pk").first() or first


def _stored_model() -> str:
    counts: dict[str, int] = {}
    for table in (IntentExample, KnowledgeChunk, VoiceExample):
        for model, n in table.objects.values_list("embedding_model").annotate(n=Count("id")).order_by():
            counts[model] = counts.get(model, 0) + n
    return max(counts, key=lambda m: counts[m]) if counts else ""


def active_embedding_model() -> str:
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < CHECK_SECONDS:
            return _cached[1]
    model = embedding_state().active_model
    with _lock:
        _cached = (time.monotonic(), model)
    return model


def forget_active_model() -> None:
    """Read the state again on next use (after this process switched the model)."""
    global _cached
    with _lock:
        _cached = None
