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
        # float32 arrays, not lists of Python floats (2 KB a text, not 16 KB: the examples alone were 14 MB a worker).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
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
        return [vector.tolist() for vector in self.embed_matrix(texts)]

    def embed_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """As `embed`, one float32 row per text (no Python lists: what numpy code wants)."""
        missing = []
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                if text not in self._cache:
                    missing.append(text)
        if missing:
            vectors = self._encode(missing)
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        with self._cache_lock:
            rows = [self._lookup(text) for text in texts]
        return np.vstack(rows) if rows else np.zeros((0, STORED_DIMENSIONS), dtype=np.float32)

    def _lookup(self, text: str) -> np.ndarray:
        vector = self._cache.get(text)
        if vector is None:  # evicted between encoding and lookup (huge batches): encode directly
            vector = self._encode([text])[0]
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
        for stale in [name for name in _embedders if name not in (model_name, settings.ENGLISH_READER)]:
            del _embedders[stale]  # the previous model's, after a switch: its memory is given back
            forget_encoder(stale)
    return embedder_for(model_name)


def english_reader_for(language: str) -> Embedder | None:
    """The English reader (settings.ENGLISH_READER, an English-only encoder that reads English finer than the
    multilingual one) for a lead written in `language` ("" is too short to tell, read as English); None when none is
    configured, the lead is in another language, or the stored vectors already come from the reader."""
    reader = settings.ENGLISH_READER
    if not reader or language not in ("", "en"):
        return None
    from intelligence.embedding_state import active_embedding_model

    return None if reader == active_embedding_model() else embedder_for(reader)
