"""Vector retrieval (pgvector, HNSW): the labelled examples nearest a lead's text (the classification's evidence)
and the knowledge chunks nearest it (the facts a reply may use). Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from pgvector.django import CosineDistance

from intelligence.embedding_state import active_embedding_model
from intelligence.models import KnowledgeChunk

log = structlog.get_logger(__name__)


@dataclass
class Neighbour:
    text: str
    intent: str
    similarity: float
    origin: str


@dataclass
class Snippet:
    document: str
    heading: str
    text: str
    similarity: float
    fact: str = ""  # the sentence that best answers the lead (facts.rank_snippets)
    score: float | None = None  # how well the chunk answers the lead, as ranked by facts.rank_snippets


_RETRIEVE_SQL = """
(SELECT 'example', e.text, e.intent, e.origin, '', '', e.embedding <=> %(v)s::vector AS distance
   FROM intelligence_intentexample e
  WHERE e.embedding_model = %(model)s
  ORDER BY e.embedding <=> %(v)s::vector LIMIT %(examples)s)
UNION ALL
(SELECT 'chunk', c.text, '', '', d.title, c.heading, c.embedding <=> %(v)s::vector AS distance
   FROM intelligence_knowledgechunk c JOIN intelligence_knowledgedocument d ON d.id = c.document_id
  WHERE c.embedding_model = %(model)s
  ORDER BY c.embedding <=> %(v)s::vector LIMIT %(chunks)s)
"""


def retrieve(
    *, vector: list[float], examples: int, chunks: int, model_name: str
) -> tuple[list[Neighbour], list[Snippet]]:
    """The nearest labelled examples and knowledge chunks in one round trip (each part ordered by the HNSW index).

    An HNSW scan (pgvector 0.6 has no iterative scan) looks at `hnsw.ef_search` candidates and then drops the rows
    this transaction cannot see: rows deleted or replaced (a knowledge re-import replaces a document's chunks) stay
    in the index until VACUUM, and enough of them near the lead's vector leave fewer rows than asked, even none.
    When a part comes back short while the table holds more, it is searched again exactly."""
    params: dict[str, Any] = {
        "v": "[" + ",".join(f"{x:.7g}" for x in vector) + "]",
        "model": model_name,
        "examples": examples,
        "chunks": chunks,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RETRIEVE_SQL, params)
        rows = cursor.fetchall()
    got = {"example": 0, "chunk": 0}
    for row in rows:
        got[row[0]] += 1
    if got["example"] < examples or got["chunk"] < chunks:
        rows = _exact_when_short(rows, params, got)
    neighbours = [
        Neighbour(text, intent, round(1 - float(distance), 4), origin)
        for kind, text, intent, origin, _, _, distance in rows
        if kind == "example"
    ]
    snippets = [
        Snippet(title, heading, text, round(1 - float(distance), 4))
        for kind, text, _, _, title, heading, distance in rows
        if kind == "chunk"
    ]
    return neighbours, snippets


# The same, ordered by an expression no index serves: a scan of every row and a sort, exact, seeing only live rows.
_EXACT_SQL = _RETRIEVE_SQL.replace(
    "ORDER BY e.embedding <=> %(v)s::vector", "ORDER BY (e.embedding <=> %(v)s::vector) + 0"
)
_EXACT_SQL = _EXACT_SQL.replace(
    "ORDER BY c.embedding <=> %(v)s::vector", "ORDER BY (c.embedding <=> %(v)s::vector) + 0"
)
_LIVE_SQL = """SELECT (SELECT count(*) FROM intelligence_intentexample WHERE embedding_model = %(model)s),
                      (SELECT count(*) FROM intelligence_knowledgechunk WHERE embedding_model = %(model)s)"""


def _exact_when_short(
    rows: list[tuple[Any, ...]], params: dict[str, Any], got: dict[str, int]
) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_SQL, params)
        live_examples, live_chunks = cursor.fetchone()
    if got["example"] >= min(live_examples, params["examples"]) and got["chunk"] >= min(live_chunks, params["chunks"]):
        return rows  # there are no more to find
    with connection.cursor() as cursor:
        cursor.execute(_EXACT_SQL, params)
        exact = cursor.fetchall()
    log.info("retrieval.exact", examples=got["example"], chunks=got["chunk"], found=len(exact))
    return exact


# A kind filter this selective (or a kind this small) is searched exactly: pgvector 0.6 filters after the HNSW scan,
# which can return fewer than k rows for a rare kind (bench/vector_search.py measures it).
EXACT_FILTER_SHARE = 0.1
EXACT_FILTER_ROWS = 20_000


def knowledge_search(*, vector: list[float], limit: int, kind: str | None = None) -> list[Snippet]:
    """The `limit` nearest knowledge chunks (optionally of one document kind), always `limit` rows when there are."""
    chunks = KnowledgeChunk.objects.filter(embedding_model=active_embedding_model())
    if kind is None:
        return _snippets(chunks.annotate(distance=CosineDistance("embedding", vector)).order_by("distance")[:limit])
    of_kind = chunks.filter(kind=kind)
    matching = of_kind.count()
    share = matching / max(1, chunks.count())
    if matching <= EXACT_FILTER_ROWS or share < EXACT_FILTER_SHARE:
        return _exact(of_kind, vector, limit)
    # Common kind: over-fetch through the index (enough candidates to hold `limit` of this kind twice over).
    fetch = min(1000, int(limit / share * 2) + 1)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(settings.HNSW_EF_SEARCH, fetch)])
        nearest = chunks.annotate(distance=CosineDistance("embedding", vector)).order_by("distance")[:fetch]
        snippets = _snippets(
            KnowledgeChunk.objects.filter(pk__in=[c.pk for c in nearest], kind=kind)
            .annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")[:limit]
        )
    return snippets if len(snippets) == min(limit, matching) else _exact(of_kind, vector, limit)


def _exact(queryset: QuerySet[KnowledgeChunk], vector: list[float], limit: int) -> list[Snippet]:
    # `+ 0` makes the sort key an expression the HNSW index cannot serve: an exact scan of the filtered rows.
    return _snippets(queryset.annotate(distance=CosineDistance("embedding", vector) + 0).order_by("distance")[:limit])


def _snippets(queryset: QuerySet[Any]) -> list[Snippet]:
    rows = queryset.values("document__title", "heading", "text", "distance")
    return [Snippet(r["document__title"], r["heading"], r["text"], round(1 - float(r["distance"]), 4)) for r in rows]


@dataclass(frozen=True)
class KnowledgeDigest:
    """The business's knowledge as one stable block for the LLM's cached prompt prefix: every chunk, in document
    order, up to a token budget. Identical for every draft until the knowledge changes, so it is read from the
    provider's prompt cache (a tenth of the input price) instead of being paid in full per lead."""

    text: str
    chunks: frozenset[tuple[str, str, str]]  # (document, heading, text) of each chunk in the block


_digest: tuple[tuple[Any, ...], KnowledgeDigest] | None = None


def knowledge_digest(*, max_tokens: int, chars_per_token: float) -> KnowledgeDigest:
    """The digest of the knowledge embedded with the active model (one aggregate query; rebuilt in this
    process when a chunk is added, changed or removed)."""
    global _digest
    from django.db.models import Count, Max

    chunks = KnowledgeChunk.objects.filter(embedding_model=active_embedding_model())
    state = chunks.aggregate(n=Count("id"), last=Max("id"))
    version = (active_embedding_model(), max_tokens, state["n"], state["last"])
    if _digest is not None and _digest[0] == version:
        return _digest[1]
    lines: list[str] = []
    included: set[tuple[str, str, str]] = set()
    budget = int(max_tokens * chars_per_token)
    for title, heading, text in chunks.order_by("document__title", "document_id", "ordinal").values_list(
        "document__title", "heading", "text"
    ):
        line = f"- [{title} / {heading}] {' '.join(text.split())}"
        if sum(len(x) + 1 for x in lines) + len(line) > budget:
            break
        lines.append(line)
        included.add((title, heading, text))
    digest = KnowledgeDigest("\n".join(lines), frozenset(included))
    _digest = (version, digest)
    return digest
