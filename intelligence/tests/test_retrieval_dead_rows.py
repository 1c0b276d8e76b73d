"""A short answer from the HNSW index is searched again exactly. pgvector 0.6 has no iterative scan: its index scan
looks at `hnsw.ef_search` candidates, then drops the rows this transaction cannot see (rows deleted or replaced,
as a knowledge re-import replaces a document's chunks, stay in the index until VACUUM), so it can return fewer
rows than asked, even none, while the table holds more. Here the index is made to come back short (a tiny
ef_search, and deleted rows nearer the lead than any live one), and retrieval must still find what is there."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from intelligence.embedding_state import active_embedding_model
from intelligence.model_calls import embed_logged
from intelligence.models import IntentExample, KnowledgeChunk, KnowledgeDocument, text_hash
from intelligence.retrieval import retrieve

pytestmark = pytest.mark.django_db


def near(vector: list[float], seed: int) -> list[float]:
    """A vector a hair from `vector`, different for each seed (identical vectors share one HNSW element)."""
    noise = np.random.default_rng(seed).normal(0, 0.002, len(vector))
    return [float(x) for x in np.asarray(vector) + noise]


def nearest(model, vector: list[float], k: int, model_name: str) -> list[str]:
    """The truth, computed here: the k texts nearest `vector` by cosine distance, over every live row."""
    rows = list(model.objects.filter(embedding_model=model_name).values_list("text", "embedding"))
    matrix = np.array([embedding for _, embedding in rows], dtype=float)
    query = np.array([float(f"{x:.7g}") for x in vector])  # as retrieval sends it
    distance = 1 - matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    return [rows[i][0] for i in np.argsort(distance, kind="stable")[:k]]


def test_a_short_index_answer_is_searched_again_exactly(demo_knowledge):
    model = active_embedding_model()
    (vector,) = embed_logged(["How much does an online shop cost?"], operation="embed:test")
    truth = (nearest(IntentExample, vector, 7, model), nearest(KnowledgeChunk, vector, 8, model))
    gone = KnowledgeDocument.objects.create(
        title="Replaced", source_path="test:replaced", content="x", content_hash="x"
    )
    KnowledgeChunk.objects.bulk_create(
        KnowledgeChunk(
            document=gone,
            ordinal=n,
            text=f"old {n}",
            text_hash=text_hash(f"old {n}"),
            embedding=near(vector, n),
            embedding_model=model,
        )
        for n in range(50)
    )
    gone.delete()  # dead index entries, each nearer the lead than any live chunk
    with connection.cursor() as cursor:  # the HNSW index, looking at very few candidates
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL hnsw.ef_search = 2")
    found = retrieve(vector=vector, examples=7, chunks=8, model_name=model)
    assert [s.text for s in found[1]] == truth[1]  # the same rows, nearest first
    assert [n.text for n in found[0]] == truth[0]
