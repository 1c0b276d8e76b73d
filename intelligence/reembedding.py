"""Re-embedding after a change of embedding model: every labelled example and knowledge chunk made by another model
than settings.EMBEDDING_MODEL gets a vector from the current one, so no query ever mixes two models' vectors."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from intelligence.chunking import chunk_embedding_text
from intelligence.embeddings import get_embedder
from intelligence.examples import examples_changed
from intelligence.models import IntentExample, KnowledgeChunk


def embeddings_refresh(*, batch_size: int = 256, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Re-embed every labelled example and knowledge chunk made by another model than settings.EMBEDDING_MODEL,
    in batches (each batch embedded outside a transaction, then written in one)."""
    model_name = settings.EMBEDDING_MODEL
    counts = {"examples": 0, "chunks": 0, "duplicates_removed": 0}
    while True:
        batch = list(IntentExample.objects.exclude(embedding_model=model_name).order_by("pk")[:batch_size])
        if not batch:
            break
        vectors = get_embedder().embed([e.text for e in batch])
        with transaction.atomic():
            for example, vector in zip(batch, vectors, strict=True):
                if IntentExample.objects.filter(text_hash=example.text_hash, embedding_model=model_name).exists():
                    example.delete()  # the same text already has a vector from the current model
                    counts["duplicates_removed"] += 1
                    continue
                example.embedding, example.embedding_model = vector, model_name
                example.save(update_fields=["embedding", "embedding_model", "updated_at"])
                counts["examples"] += 1
        if progress:
            progress(len(batch))
    while True:
        chunks = list(
            KnowledgeChunk.objects.exclude(embedding_model=model_name)
            .select_related("document")
            .order_by("pk")[:batch_size]
        )
        if not chunks:
            break
        vectors = get_embedder().embed([chunk_embedding_text(c) for c in chunks])
        with transaction.atomic():
            for chunk, vector in zip(chunks, vectors, strict=True):
                chunk.embedding, chunk.embedding_model = vector, model_name
            KnowledgeChunk.objects.bulk_update(chunks, ["embedding", "embedding_model"])
            counts["chunks"] += len(chunks)
        if progress:
            progress(len(chunks))
    examples_changed()
    return counts
