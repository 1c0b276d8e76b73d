"""all-MiniLM-L6-v2 exported to ONNX with torch.onnx (fp32) and quantised to int8 (ONNX Runtime's dynamic
quantisation), in a temporary folder; encoders that pool and normalise as sentence-transformers does. Used by
bench/embedding_throughput.py and bench/embedding_backends.py (ONNX Runtime is not a project dependency:
`.venv/bin/pip install onnxruntime onnx` first)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np


def onnx_encoders(model) -> dict[str, Callable[..., np.ndarray]]:
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tokenizer, transformer = model.tokenizer, model[0].auto_model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    folder = Path(tempfile.mkdtemp())
    sample = tokenizer(["hello world"], return_tensors="pt")
    torch.onnx.export(
        Hidden(transformer),
        tuple(sample[n] for n in names),
        folder / "fp32.onnx",
        input_names=names,
        output_names=["hidden"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(folder / "fp32.onnx", folder / "int8.onnx", weight_type=QuantType.QInt8)
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    encoders: dict[str, Callable[..., np.ndarray]] = {}
    for variant in ["fp32", "int8"]:
        session = ort.InferenceSession(str(folder / f"{variant}.onnx"), options, providers=["CPUExecutionProvider"])

        def encode(batch_texts: list[str], session=session) -> np.ndarray:
            vectors = []
            for start in range(0, len(batch_texts), 64):
                batch = tokenizer(
                    batch_texts[start : start + 64], padding=True, truncation=True, max_length=256, return_tensors="np"
                )
                hidden = session.run(None, {n: batch[n].astype(np.int64) for n in names})[0]
                mask = batch["attention_mask"][..., None]
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                vectors.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
            return np.vstack(vectors)

        encoders[f"onnx_{variant}"] = encode
    return encoders
