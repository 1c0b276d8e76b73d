"""Switching the embedding model on a database that holds vectors of both: everything is embedded again beside the
old vectors, resumably, while classification keeps using the old model; then one switch, and the new model serves."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from django.core.management import call_command

from intelligence.classification import classify_text
from intelligence.embedding_state import active_embedding_model, embedding_state, forget_active_model
from intelligence.embeddings import get_embedder
from intelligence.encoders import E5_SMALL, MINILM, USE_MULTILINGUAL, EncoderUnavailable, load_encoder
from intelligence.models import IntentExample, KnowledgeChunk
from intelligence.reembedding import embeddings_refresh, pending_count
from intelligence.retrieval import knowledge_search

pytestmark = pytest.mark.django_db
HOT = "We need the website live next week, budget approved, can we sign today?"


def use_e5_first(settings) -> None:
    """The demo data as an earlier install would hold it: embedded with multilingual-e5 (a sixth of the labelled
    examples, every intent and kind among them: e5 embeds about 30 texts a second here)."""
    keep = list(IntentExample.objects.order_by("pk").values_list("pk", flat=True))[::6]
    IntentExample.objects.exclude(pk__in=keep).delete()
    settings.EMBEDDING_MODEL = E5_SMALL
    assert embeddings_refresh(batch_size=500)["switched"]
    assert active_embedding_model() == E5_SMALL


def test_switching_keeps_the_old_vectors_in_use_until_the_new_ones_are_complete(demo_knowledge, settings):
    use_e5_first(settings)
    # e5's 384 dimensions are stored padded to the column's 512: no dot product changes.
    vector = np.asarray(IntentExample.objects.order_by("pk").first().embedding)
    assert vector.shape == (512,) and not vector[384:].any() and abs(np.linalg.norm(vector) - 1) < 1e-4
    total = IntentExample.objects.count() + KnowledgeChunk.objects.count()
    settings.EMBEDDING_MODEL = USE_MULTILINGUAL

    # Interrupted after two batches: the new vectors wait beside the old ones, nothing else changed.
    chunks = KnowledgeChunk.objects.count()
    assert chunks > 10
    examples = IntentExample.objects.count()
    counts = embeddings_refresh(batch_size=10, max_batches=-(-examples // 10) + 1)  # every example, 10 chunks
    assert counts["switched"] is False and (counts["examples"], counts["chunks"]) == (examples, 10)
    assert KnowledgeChunk.objects.filter(next_model=USE_MULTILINGUAL).count() == 10
    done = examples + 10
    assert not IntentExample.objects.exclude(embedding_model=E5_SMALL).exists()
    state = embedding_state()
    assert (state.active_model, state.target_model, state.done, state.total) == (
        E5_SMALL,
        USE_MULTILINGUAL,
        done,
        total,
    )
    forget_active_model()
    assert get_embedder().model_name == E5_SMALL  # leads are still embedded with the old model...
    result = classify_text(text=HOT)
    assert (result.embedding_model, result.intent) == (E5_SMALL, "hot")  # ...and compared with its vectors
    hits = knowledge_search(vector=get_embedder().embed_one("Can I pay in instalments?"), limit=1)
    # Either payment chunk answers it; e5's 4-bit scores for the two are close enough to swap between machines
    # (a clean-clone CI run chose "Payment terms").
    assert hits[0].heading in {"Do you offer payment plans?", "Payment terms"}

    # A new example arrives mid-switch: stored with the model in use, carried over by the resumed run.
    call_command("reembed", "--status", stdout=(status := io.StringIO()))
    assert f"active model: {E5_SMALL}" in status.getvalue() and f"{total - done} text(s) left" in status.getvalue()
    from intelligence.examples import intent_examples_add

    intent_examples_add(examples=[("Necesitamos la web para el lunes, ¿firmamos hoy?", "hot", "prospect")])
    assert pending_count(USE_MULTILINGUAL) == total - done + 1

    out = io.StringIO()
    call_command("reembed", "--batch-size", "300", "--quiet", stdout=out)
    assert f"{USE_MULTILINGUAL} is now the active model" in out.getvalue()
    assert "re-embedding with" in out.getvalue()  # progress, a line per tenth
    assert not IntentExample.objects.exclude(embedding_model=USE_MULTILINGUAL).exists()
    assert not KnowledgeChunk.objects.exclude(embedding_model=USE_MULTILINGUAL).exists()
    assert not IntentExample.objects.exclude(next_model="").exists()
    assert get_embedder().model_name == USE_MULTILINGUAL
    assert embedding_state().switched_at is not None
    result = classify_text(text=HOT)
    assert (result.embedding_model, result.intent) == (USE_MULTILINGUAL, "hot")
    # The stored vectors are the new model's (padded to the column's width), not the old ones moved.
    chunk = KnowledgeChunk.objects.order_by("pk").first()
    expected = load_encoder(USE_MULTILINGUAL).encode(
        [f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text]
    )
    assert np.allclose(np.asarray(chunk.embedding)[:512], expected[0], atol=1e-5)


def test_configuring_the_active_model_again_abandons_a_switch_in_progress(demo_knowledge, settings):
    active = active_embedding_model()
    settings.EMBEDDING_MODEL = USE_MULTILINGUAL if active != USE_MULTILINGUAL else E5_SMALL
    embeddings_refresh(batch_size=50, max_batches=1)
    assert IntentExample.objects.filter(next_model=settings.EMBEDDING_MODEL).count() == 50
    settings.EMBEDDING_MODEL = active
    counts = embeddings_refresh()
    assert counts["abandoned"] == 50 and not IntentExample.objects.exclude(next_model="").exists()
    assert embedding_state().target_model == ""


def test_an_encoder_that_cannot_run_here_is_refused_before_anything_changes(demo_knowledge, settings, monkeypatch):
    import intelligence.embeddings as embeddings
    import intelligence.encoders as encoders

    monkeypatch.setattr(encoders, "cpu_flags", lambda: {"sse2", "avx"})
    monkeypatch.setattr(encoders, "_loaded", {})
    monkeypatch.setattr(embeddings, "_embedders", {})
    with pytest.raises(EncoderUnavailable, match="AVX2"):
        load_encoder(E5_SMALL)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # the optional torch extra is not installed
    with pytest.raises(EncoderUnavailable, match="torch extra"):
        load_encoder(MINILM, "torch")
    settings.EMBEDDING_MODEL = E5_SMALL
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("reembed", stderr=err)
    assert "cannot re-embed" in err.getvalue() and "AVX2" in err.getvalue()
    assert not IntentExample.objects.exclude(next_model="").exists()
    assert embedding_state().target_model == ""


def test_with_a_multilingual_encoder_leads_in_the_taught_languages_are_read_like_english(demo_knowledge, settings):
    from intelligence.examples import intent_examples_add
    from intelligence.language import VALIDATED_LANGUAGES, local_languages
    from intelligence.seed_set import seed_examples

    # An install from before the multilingual default: English-only MiniLM vectors, English examples only.
    foreign = [text for text, _, _ in seed_examples(languages=VALIDATED_LANGUAGES - {"en"})]
    IntentExample.objects.filter(text__in=foreign).delete()
    settings.EMBEDDING_MODEL = MINILM
    assert embeddings_refresh(batch_size=500)["switched"]
    assert local_languages() == {"en"}
    english_only = len(seed_examples())
    settings.EMBEDDING_MODEL = USE_MULTILINGUAL
    assert embeddings_refresh(batch_size=500)["switched"]
    assert local_languages() == {"en", "es", "de", "fr", "it", "pt", "nl", "pl"}
    added = intent_examples_add(examples=seed_examples())  # what `make run`'s seed_demo does at the next start
    assert added == 189 and len(seed_examples()) == english_only + 189
    # Leads from the issue that the English-only model read as cold.
    for text in (
        "hola! quiero reservar una mesa para 8 personas este sábado a las 21h",
        "Quería pedir presupuesto para reformar la cocina completa. ¿Podrían venir a verla esta semana?",
    ):
        result = classify_text(text=text)
        assert result.intent == "hot", (text, result.scores)
        assert not any("not taught" in reason for reason in result.unfamiliar), result.unfamiliar
    swedish = classify_text(text="Hej! Vi vill boka ett möte nästa vecka om en ny hemsida för vårt företag.")
    assert swedish.language == "sv" and any("not taught" in reason for reason in swedish.unfamiliar)
    assert swedish.confidence <= 0.67


def test_processes_creating_the_state_together_do_not_fail(db, monkeypatch):
    """Two workers starting together both find no state row and both create it: the second must not fail (it did,
    with a duplicate key, in a worker's first job)."""
    from intelligence import embedding_state as module
    from intelligence.models import EmbeddingState

    EmbeddingState.objects.all().delete()
    real = module._stored_model

    def another_process_wins() -> str:
        EmbeddingState.objects.create(pk=1, active_model=USE_MULTILINGUAL)  # between our read and our insert
        return real()

    monkeypatch.setattr(module, "_stored_model", another_process_wins)
    state = embedding_state()
    assert (state.pk, state.active_model) == (1, USE_MULTILINGUAL)
    assert EmbeddingState.objects.count() == 1
