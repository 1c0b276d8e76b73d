"""The embedding model run by ONNX Runtime (fp32): the same vectors as PyTorch, 1.5x to 1.9x the batched throughput
and a third of the single-text latency on two cores (bench/embedding_backends.py, docs/PERFORMANCE.md).

Nothing is downloaded: the bundled sentence-transformers model is exported with torch.onnx once per machine and
version into MODEL_CACHE_DIR (written to a temporary file and renamed, so processes starting together never read
half a file). Tokenising, mean pooling and normalising are done as sentence-transformers does them."""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
EXPORT_VERSION = "1"  # bump when the export changes


def exported_path(model: Any, model_dir: str) -> Path:
    """The ONNX file of `model` (a SentenceTransformer loaded from `model_dir`), exported when missing."""
    import onnx
    import torch

    key = hashlib.sha256(f"{model_dir}|{torch.__version__}|{onnx.__version__}|{EXPORT_VERSION}".encode()).hexdigest()
    folder = Path(settings.MODEL_CACHE_DIR) / "onnx"
    path = folder / f"{Path(model_dir).name}-{key[:16]}.onnx"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    transformer = model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["hello world"], return_tensors="pt")
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".onnx.tmp")
    os.close(handle)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes, not problems of this model
            torch.onnx.export(
                Hidden(transformer),
                tuple(sample[name] for name in INPUTS),
                temporary,
                input_names=INPUTS,
                output_names=["hidden"],
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "hidden"]},
                opset_version=17,
                dynamo=False,
            )
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


class OnnxEncoder:
    def __init__(self, model: Any, model_dir: str):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(exported_path(model, model_dir)), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = model.tokenizer
        self.max_length = int(model.max_seq_length)

    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation="longest_first",
                max_length=self.max_length,
                return_tensors="np",
            )
            feed = {name: batch[name].astype(np.int64) for name in INPUTS if name in batch}
            if "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            hidden = self.session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(hidden.dtype)
            pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        return np.vstack(out) if out else np.zeros((0, 0), dtype=np.float32)
