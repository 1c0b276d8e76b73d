"""Local sentence embeddings: one encoder per process (intelligence/encoders.py), loaded on first use, never
downloaded at run time. Every vector is stored with STORED_DIMENSIONS: a shorter model's vectors are padded with
zeros, which changes no dot product or distance, so the vectors of two models can sit in one column while the
knowledge is re-embedded for a new model (intelligence/reembedding.py)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from django.conf import settings

from intelligence.encoders import Encoder, forget_encoder, load_encoder

STORED_DIMENSIONS = 512  # the widest encoder's (intelligence.models.EMBEDDING_DIMENSIONS)


class Embedder:
    """Normalised embeddings (cosine similarity = dot product) with a small cache so a text is embedded once."""

    def __init__(self, model_name: str, *, cache_size: int = 20_000, batch_size: int = 64):
        self.model_name = model_name
        self.cache_size = cache_size
        self.batch_size = batch_size
        self._encoder: Encoder | None = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            with self._load_lock:
                if self._encoder is None:
                    self._encoder = load_encoder(self.model_name, settings.EMBEDDING_BACKEND)
        return self._encoder

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self.encoder.encode(texts, batch_size=self.batch_size), dtype=np.float32)
        if vectors.shape[1] < STORED_DIMENSIONS:
            vectors = np.pad(vectors, ((0, 0), (0, STORED_DIMENSIONS - vectors.shape[1])))
        return vectors

    @property
    def max_tokens(self) -> int:
        return self.encoder.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.encoder.count_tokens(text)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed many texts in batches; identical texts (and texts seen before) are encoded once."""
        missing = []
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                if text not in self._cache:
                    missing.append(text)
        if missing:
            vectors = self._encode(missing)
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector.tolist()
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        with self._cache_lock:
            return [self._lookup(text) for text in texts]

    def _lookup(self, text: str) -> list[float]:
        vector = self._cache.get(text)
        if vector is None:  # evicted between encoding and lookup (huge batches): encode directly
            vector = self._encode([text])[0].tolist()
        else:
            self._cache.move_to_end(text)
        return vector

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


_embedders: dict[str, Embedder] = {}
_embedder_lock = threading.Lock()


def embedder_for(model_name: str) -> Embedder:
    """The process's embedder for one model."""
    with _embedder_lock:
        if model_name not in _embedders:
            _embedders[model_name] = Embedder(model_name)
        return _embedders[model_name]


def get_embedder() -> Embedder:
    """The embedder of the model whose vectors queries use now: the active model (embedding_state.py), which is
    settings.EMBEDDING_MODEL once everything stored has been embedded with it."""
    from intelligence.embedding_state import active_embedding_model

    model_name = active_embedding_model()
    with _embedder_lock:
        for stale in [name for name in _embedders if name != model_name]:
            del _embedders[stale]  # the previous model's, after a switch: its memory is given back
            forget_encoder(stale)
    return embedder_for(model_name)
