"""Intelligence use cases: embed, retrieve, classify, record model calls. Writes live here only."""

from __future__ import annotations

import html
import math
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.html import strip_tags
from pgvector.django import CosineDistance

from intelligence.embeddings import get_embedder
from intelligence.knowledge import SUPPORTED_SUFFIXES, chunk_embedding_text, chunk_file
from intelligence.models import (
    Classification,
    IntentExample,
    KnowledgeChunk,
    KnowledgeDocument,
    ModelCall,
    text_hash,
)
from leads.models import Intent

INTENTS = [Intent.HOT.value, Intent.WARM.value, Intent.COLD.value]


# --- Model call log ---


def model_call_record(
    *,
    operation: str,
    provider: str,
    model: str,
    latency_ms: float,
    status: str = ModelCall.Status.OK,
    error: str = "",
    lead_id: int | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_creation_tokens: int = 0,
    cache_read_tokens: int = 0,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
) -> ModelCall:
    return ModelCall.objects.create(
        operation=operation,
        provider=provider,
        model=model,
        lead_id=lead_id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_creation_tokens=cache_creation_tokens,
        cache_read_tokens=cache_read_tokens,
        cost_usd=llm_cost_usd(model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens),
        latency_ms=latency_ms,
        status=status,
        error=error[:5000],
        request=request or {},
        response=response or {},
    )


def llm_cost_usd(model: str, input_tokens: int, output_tokens: int, cache_write: int, cache_read: int) -> Decimal:
    prices = settings.LLM_PRICES_PER_MTOK.get(model)
    if prices is None:
        return Decimal(0)
    total = (
        input_tokens * prices[0] + output_tokens * prices[1] + cache_write * prices[2] + cache_read * prices[3]
    ) / 1_000_000
    return Decimal(str(round(total, 6)))


# --- Intent examples and knowledge ---


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
    vectors = get_embedder().embed([t for t, _ in new_rows])
    objects = [
        IntentExample(text=t, text_hash=text_hash(t), intent=i, origin=origin, embedding=v, embedding_model=model_name)
        for (t, i), v in zip(new_rows, vectors, strict=True)
    ]
    created = IntentExample.objects.bulk_create(objects, ignore_conflicts=True)
    return len(created)


def knowledge_load_path(*, path: Path) -> dict[str, int]:
    """Load a Markdown/text/FAQ-CSV file or a folder of them; unchanged documents are not re-embedded."""
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES) if path.is_dir() else [path]
    stats = {"documents": 0, "unchanged": 0, "chunks": 0}
    for file in files:
        title, content, chunks = chunk_file(file)
        digest = text_hash(content)
        source = str(file.resolve())
        current = KnowledgeDocument.objects.filter(source_path=source).first()
        if (
            current is not None
            and current.content_hash == digest
            and not current.chunks.exclude(embedding_model=settings.EMBEDDING_MODEL).exists()
        ):
            stats["unchanged"] += 1
            continue
        vectors = get_embedder().embed([chunk_embedding_text(c) for c in chunks])  # outside the transaction
        with transaction.atomic():
            document, _ = KnowledgeDocument.objects.update_or_create(
                source_path=source, defaults={"title": title, "content": content, "content_hash": digest}
            )
            document.chunks.all().delete()
            KnowledgeChunk.objects.bulk_create(
                KnowledgeChunk(
                    document=document,
                    ordinal=n,
                    heading=chunk.heading[:300],
                    text=chunk.text,
                    text_hash=text_hash(chunk.text),
                    embedding=vector,
                    embedding_model=settings.EMBEDDING_MODEL,
                )
                for n, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
            )
        stats["documents"] += 1
        stats["chunks"] += len(chunks)
    return stats


# --- Classification ---


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


@dataclass
class ClassificationResult:
    intent: str
    confidence: float
    scores: dict[str, float]
    neighbours: list[Neighbour]
    snippets: list[Snippet]
    margin: float
    method: str
    embedding_model: str
    latency_ms: float
    notes: list[str] = field(default_factory=list)

    def explanation(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "neighbours": [asdict(n) for n in self.neighbours],
            "scores": self.scores,
            "margin": self.margin,
            "notes": self.notes,
        }

    def summary(self) -> str:
        if not self.neighbours:
            return "No usable text to compare with labelled examples; " + "; ".join(self.notes)
        agreeing = sum(1 for n in self.neighbours if n.intent == self.intent)
        return (
            f"{agreeing} of the {len(self.neighbours)} most similar labelled examples are {self.intent} "
            f'(closest: "{self.neighbours[0].text[:80]}", similarity {self.neighbours[0].similarity:.2f}); '
            f"vote margin {self.margin:.2f}."
        )


_BLOCK_TAG = re.compile(r"<\s*(br|p|/p|div|/div|li|/li|tr|/tr|h[1-6]|/h[1-6])\b[^>]*>", re.IGNORECASE)


def lead_text(*, subject: str, body: str) -> str:
    """The text the classifier reads: subject and body, HTML tags removed, whitespace folded."""
    text = f"{subject}\n{body}" if subject else body
    if "<" in text:
        text = html.unescape(strip_tags(_BLOCK_TAG.sub(" ", text)))
    return " ".join(text.split())


def classify_text(*, text: str, k: int | None = None, with_knowledge: bool = True) -> ClassificationResult:
    """hot/warm/cold by a similarity-weighted vote of the k nearest labelled examples (pgvector, cosine)."""
    started = time.perf_counter()
    k = k or settings.CLASSIFIER_K
    embedder = get_embedder()
    model_name = embedder.model_name
    notes: list[str] = []
    if not text.strip():
        uniform = round(1 / len(INTENTS), 4)
        return ClassificationResult(
            intent=Intent.COLD,
            confidence=uniform,
            scores=dict.fromkeys(INTENTS, uniform),
            neighbours=[],
            snippets=[],
            margin=0.0,
            method="empty-text",
            embedding_model=model_name,
            latency_ms=(time.perf_counter() - started) * 1000,
            notes=["the lead sent no message text"],
        )
    if embedder.count_tokens(text) > embedder.max_tokens:
        notes.append(f"the message was longer than the model's {embedder.max_tokens}-token window; its start was used")
    vector = embedder.embed_one(text)

    rows = list(
        IntentExample.objects.filter(embedding_model=model_name)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")
        .values("text", "intent", "origin", "distance")[:k]
    )
    if not rows:
        raise RuntimeError(
            "No labelled intent examples are loaded for this embedding model; run `manage.py seed_demo`."
        )
    neighbours = [Neighbour(r["text"], r["intent"], round(1 - float(r["distance"]), 4), r["origin"]) for r in rows]
    scores = _vote(neighbours)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    intent, confidence = ranked[0]
    margin = round(ranked[0][1] - ranked[1][1], 4)

    snippets = knowledge_search(vector=vector, limit=settings.KNOWLEDGE_TOP_K) if with_knowledge else []
    return ClassificationResult(
        intent=intent,
        confidence=round(confidence, 4),
        scores={key: round(value, 4) for key, value in scores.items()},
        neighbours=neighbours,
        snippets=snippets,
        margin=margin,
        method=f"knn-weighted(k={k})",
        embedding_model=model_name,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
        notes=notes,
    )


# Softmax temperature over similarities: closer neighbours weigh exponentially more than far ones.
VOTE_TEMPERATURE = 0.05


def _vote(neighbours: Sequence[Neighbour]) -> dict[str, float]:
    weights: dict[str, float] = defaultdict(float)
    top = max(n.similarity for n in neighbours)
    for n in neighbours:
        weights[n.intent] += math.exp((n.similarity - top) / VOTE_TEMPERATURE)
    total = sum(weights.values())
    return {intent: weights.get(intent, 0.0) / total for intent in INTENTS}


def knowledge_search(*, vector: list[float], limit: int) -> list[Snippet]:
    rows = (
        KnowledgeChunk.objects.filter(embedding_model=settings.EMBEDDING_MODEL)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")
        .values("document__title", "heading", "text", "distance")[:limit]
    )
    return [Snippet(r["document__title"], r["heading"], r["text"], round(1 - float(r["distance"]), 4)) for r in rows]


def classification_store(*, lead_id: int, result: ClassificationResult) -> Classification:
    """Keep a classification and make it the lead's intent in effect, in one transaction."""
    from leads.services import lead_record_classification

    with transaction.atomic():
        classification = Classification.objects.create(
            lead_id=lead_id,
            intent=result.intent,
            confidence=result.confidence,
            scores=result.scores,
            method=result.method,
            explanation=result.explanation(),
            snippets=[asdict(s) for s in result.snippets],
            embedding_model=result.embedding_model,
            latency_ms=result.latency_ms,
        )
        lead_record_classification(lead_id=lead_id, intent=result.intent, confidence=result.confidence)
    return classification
