"""The model-call log: every call to a model (the LLM, the local embedder and classifier) is a ModelCall with its
tokens, cost and latency. The lowest module of the app: anything may record a call here."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.conf import settings

from intelligence.embeddings import get_embedder
from intelligence.models import ModelCall


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
    voice_examples: list[int] | None = None,
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
        voice_examples=voice_examples or [],
    )


def embed_logged(texts: list[str], *, operation: str) -> list[list[float]]:
    """Embed a batch locally and log it as a ModelCall (local models cost nothing but time)."""
    embedder = get_embedder()
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    model_call_record(
        operation=operation,
        provider="local",
        model=embedder.model_name,
        latency_ms=(time.perf_counter() - started) * 1000,
        request={"texts": len(texts)},
    )
    return vectors


def llm_cost_usd(model: str, input_tokens: int, output_tokens: int, cache_write: int, cache_read: int) -> Decimal:
    prices = settings.LLM_PRICES_PER_MTOK.get(model)
    if prices is None:
        return Decimal(0)
    total = (
        input_tokens * prices[0] + output_tokens * prices[1] + cache_write * prices[2] + cache_read * prices[3]
    ) / 1_000_000
    return Decimal(str(round(total, 6)))
