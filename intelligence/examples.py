"""Labelled intent examples: the classifier's training data, added from the seed set or learned from operators'
corrections. A change retrains the intent model (in this process at once; in others within seconds)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from intelligence.classifier import INTENTS, invalidate_intent_models
from intelligence.embedding_state import active_embedding_model
from intelligence.model_calls import embed_logged
from intelligence.models import IntentExample, SenderKind, text_hash


def intent_examples_add(*, examples: Iterable[Sequence[str]], origin: str = IntentExample.Origin.SEED) -> int:
    """Embed and store labelled examples, each (text, intent) or (text, intent, kind); texts already stored are
    skipped. Returns how many were new."""
    model_name = active_embedding_model()
    labelled: dict[str, tuple[str, str]] = {}
    for example in examples:
        text, intent = example[0].strip(), example[1]
        kind = example[2] if len(example) > 2 else ""
        if intent not in INTENTS:
            raise ValueError(f"unknown intent {intent!r} for example {text[:40]!r}")
        if kind and kind not in SenderKind.values:
            raise ValueError(f"unknown kind {kind!r} for example {text[:40]!r}")
        if text:
            labelled[text] = (intent, kind)
    existing = set(
        IntentExample.objects.filter(
            embedding_model=model_name, text_hash__in=[text_hash(t) for t in labelled]
        ).values_list("text_hash", flat=True)
    )
    _label_kinds(model_name, {text_hash(t): k for t, (_, k) in labelled.items() if k and text_hash(t) in existing})
    new_rows = [(t, i, k) for t, (i, k) in labelled.items() if text_hash(t) not in existing]
    if not new_rows:
        return 0
    vectors = embed_logged([t for t, _, _ in new_rows], operation="embed:intent_examples")
    objects = [
        IntentExample(
            text=t, text_hash=text_hash(t), intent=i, kind=k, origin=origin, embedding=v, embedding_model=model_name
        )
        for (t, i, k), v in zip(new_rows, vectors, strict=True)
    ]
    created = IntentExample.objects.bulk_create(objects, ignore_conflicts=True)
    examples_changed()
    return len(created)


def _label_kinds(model_name: str, kinds: dict[str, str]) -> None:
    """Stored examples that had no kind (loaded before kinds existed) take the seed file's, one UPDATE per kind."""
    changed = 0
    for kind in set(kinds.values()):
        hashes = [h for h, k in kinds.items() if k == kind]
        changed += IntentExample.objects.filter(embedding_model=model_name, text_hash__in=hashes, kind="").update(
            kind=kind
        )
    if changed:
        examples_changed()


def examples_changed() -> None:
    # Retrain at once in this process (also inside a transaction that may roll back: a retrain is all that costs) and
    # again after commit; other processes notice within classifier.VERSION_CHECK_SECONDS.
    invalidate_intent_models()
    transaction.on_commit(invalidate_intent_models)
