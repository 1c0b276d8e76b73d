"""Labelled intent examples: the classifier's training data, added from the seed set or learned from operators'
corrections. A change retrains the intent model (in this process at once; in others within seconds)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from intelligence.classifier import INTENTS, invalidate_intent_models
from intelligence.model_calls import embed_logged
from intelligence.models import IntentExample, text_hash


def intent_examples_add(*, examples: Iterable[tuple[str, str]], origin: str = IntentExample.Origin.SEED) -> int:
    """Embed and store labelled examples (text, intent); texts already stored are skipped. Returns how many were new."""
    model_name = settings.EMBEDDING_MODEL
    rows = []
    for text, intent in examples:
        text = text.strip()
        if intent not in INTENTS:
            raise ValueError(f"unknown intent {intent!r} for example {text[:40]!r}")
        if text:
            rows.append((text, intent))
    existing = set(
        IntentExample.objects.filter(
            embedding_model=model_name, text_hash__in=[text_hash(t) for t, _ in rows]
        ).values_list("text_hash", flat=True)
    )
    new_rows = [(t, i) for t, i in dict(rows).items() if text_hash(t) not in existing]
    if not new_rows:
        return 0
    vectors = embed_logged([t for t, _ in new_rows], operation="embed:intent_examples")
    objects = [
        IntentExample(text=t, text_hash=text_hash(t), intent=i, origin=origin, embedding=v, embedding_model=model_name)
        for (t, i), v in zip(new_rows, vectors, strict=True)
    ]
    created = IntentExample.objects.bulk_create(objects, ignore_conflicts=True)
    examples_changed()
    return len(created)


def examples_changed() -> None:
    # Retrain at once in this process (also inside a transaction that may roll back: a retrain is all that costs) and
    # again after commit; other processes notice within classifier.VERSION_CHECK_SECONDS.
    invalidate_intent_models()
    transaction.on_commit(invalidate_intent_models)
