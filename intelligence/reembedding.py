"""Switching the embedding model safely. Everything stored (labelled examples, knowledge chunks, voice examples) is
embedded again with the configured model into `next_embedding`, in batches, each committed: an interrupted run
resumes where it stopped. Meanwhile queries keep using the old vectors, and leads are embedded with the old model
(embedding_state.active_embedding_model). When every row has its new vector, one transaction moves them into place
and makes the new model active; other processes follow within seconds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from intelligence.chunking import chunk_embedding_text
from intelligence.embedding_state import embedding_state, forget_active_model
from intelligence.embeddings import embedder_for
from intelligence.examples import examples_changed
from intelligence.models import EmbeddingState, IntentExample, KnowledgeChunk, VoiceExample

TABLES: tuple[type[models.Model], ...] = (IntentExample, KnowledgeChunk, VoiceExample)
_NAMES = {IntentExample: "examples", KnowledgeChunk: "chunks", VoiceExample: "voice_examples"}


def _text(row: Any) -> str:
    if isinstance(row, KnowledgeChunk):
        return chunk_embedding_text(row)
    if isinstance(row, VoiceExample):
        return row.lead_text
    return row.text


def _pending(table: type[models.Model], target: str) -> Any:
    """Rows without a vector from `target`, neither in place nor waiting."""
    return table._default_manager.exclude(Q(embedding_model=target) | Q(next_model=target))


def pending_count(target: str) -> int:
    return sum(_pending(table, target).count() for table in TABLES)


def embeddings_refresh(
    *,
    target: str | None = None,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
) -> dict[str, Any]:
    """Embed everything for `target` (settings.EMBEDDING_MODEL) and switch to it. `max_batches` stops early (as an
    interruption would); the next call resumes. Returns what was done and whether the switch happened."""
    target = target or settings.EMBEDDING_MODEL
    embedder = embedder_for(target)  # load the new model first: an unavailable one fails before anything changes
    embedder.encoder  # noqa: B018
    state = embedding_state()
    counts: dict[str, Any] = {name: 0 for name in _NAMES.values()}
    if state.active_model == target:
        abandoned = sum(
            table._default_manager.exclude(next_model="").update(next_embedding=None, next_model="") for table in TABLES
        )
        EmbeddingState.objects.filter(pk=state.pk).update(target_model="", done=0, total=0)
        for table in TABLES:  # stragglers of another model (an interrupted older release's switch): in place
            while rows := list(_pending(table, target).order_by("pk")[:batch_size]):
                _replace_in_place(table, rows, embedder.embed([_text(r) for r in rows]), target)
                counts[_NAMES[table]] += len(rows)
                if progress:
                    progress(len(rows))
        if any(counts[name] for name in _NAMES.values()):
            examples_changed()
        counts.update(switched=False, active=target, abandoned=abandoned)
        return counts
    if state.target_model != target:
        EmbeddingState.objects.filter(pk=state.pk).update(
            target_model=target, done=0, total=pending_count(target), started_at=timezone.now()
        )
    batches = 0
    for table in TABLES:
        while max_batches is None or batches < max_batches:
            rows = list(_pending(table, target).order_by("pk")[:batch_size])
            if not rows:
                break
            vectors = embedder.embed([_text(r) for r in rows])  # outside any transaction
            for row, vector in zip(rows, vectors, strict=True):
                row.next_embedding, row.next_model = vector, target
            with transaction.atomic():
                table._default_manager.bulk_update(rows, ["next_embedding", "next_model"])
                EmbeddingState.objects.filter(pk=state.pk).update(done=F("done") + len(rows))
            counts[_NAMES[table]] += len(rows)
            batches += 1
            if progress:
                progress(len(rows))
    if pending_count(target):
        counts.update(switched=False, active=state.active_model)
        return counts
    _switch(target, embedder)
    counts.update(switched=True, active=target)
    return counts


def _replace_in_place(table: type[models.Model], rows: list[Any], vectors: list[list[float]], target: str) -> None:
    """Give `rows` the active model's vectors in place (three queries a batch); an example whose text already has a
    vector from that model gives way."""
    gone: set[int] = set()
    fields = ["embedding", "embedding_model"]
    if table is IntentExample:
        taken = set(
            IntentExample.objects.filter(embedding_model=target, text_hash__in=[r.text_hash for r in rows]).values_list(
                "text_hash", flat=True
            )
        )
        gone = {r.pk for r in rows if r.text_hash in taken}
        fields.append("updated_at")  # bulk_update does not touch auto_now fields; the classifier's version reads it
    now = timezone.now()
    with transaction.atomic():
        table._default_manager.filter(pk__in=gone).delete()
        for row, vector in zip(rows, vectors, strict=True):
            row.embedding, row.embedding_model = vector, target
            if table is IntentExample:
                row.updated_at = now
        table._default_manager.bulk_update([r for r in rows if r.pk not in gone], fields)


def _switch(target: str, embedder: Any) -> None:
    with transaction.atomic():
        state = EmbeddingState.objects.select_for_update().get(pk=embedding_state().pk)
        for table in TABLES:  # rows added since the last batch (few): embedded here, under the lock
            late = list(_pending(table, target).order_by("pk"))
            if late:
                for row, vector in zip(late, embedder.embed([_text(r) for r in late]), strict=True):
                    row.next_embedding, row.next_model = vector, target
                table._default_manager.bulk_update(late, ["next_embedding", "next_model"])
        # An example stored under the new model already (an earlier switch) gives way to the one being moved.
        moving = IntentExample.objects.filter(next_model=target).values("text_hash")
        IntentExample.objects.filter(embedding_model=target, text_hash__in=moving).delete()
        for table in TABLES:
            table._default_manager.filter(next_model=target).update(
                embedding=F("next_embedding"), embedding_model=target, next_embedding=None, next_model=""
            )
        state.active_model, state.target_model, state.switched_at = target, "", timezone.now()
        state.save(update_fields=["active_model", "target_model", "switched_at", "updated_at"])
    forget_active_model()
    examples_changed()
