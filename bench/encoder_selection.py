"""Which sentence encoder: the candidates compared on the team's cross-validation, on the evaluation sets and on
choosing the fact that answers, with their speed and memory, in one run.

    .venv/bin/python bench/encoder_selection.py [--encoders NAME,...] [--quick]

The intent model is the product's ensemble (an RBF SVM on the embedding plus half a logistic regression on n-grams
and signals), fitted here exactly as `intelligence.classifier` fits it; only the embedding changes. Cross-validation
leaves out, per fold: a whole style of writing; a whole group of kinds of business; a whole language (every other
language stays in training); and, hardest, every language but English (trained on English alone, scored per
language). The temperature is fitted inside each training fold. The evaluation sets are only scored, never used to
choose anything inside a run. all-MiniLM-L6-v2 is included when the optional torch extra is installed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")

from intent_model_selection import business_group  # noqa: E402 (bench/ is on the path when run as a script)


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def metrics(labels: np.ndarray, probabilities: np.ndarray, n_classes: int) -> dict[str, float]:
    from intelligence.evaluation import expected_calibration_error

    predicted, confidence = probabilities.argmax(1), probabilities.max(1)
    correct = predicted == labels
    f1 = []
    for cls in range(n_classes):
        if not ((labels == cls).any() or (predicted == cls).any()):
            continue
        tp = int(((predicted == cls) & (labels == cls)).sum())
        precision, recall = tp / max(1, int((predicted == cls).sum())), tp / max(1, int((labels == cls).sum()))
        f1.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {
        "n": len(labels),
        "f1": round(float(np.mean(f1)), 3),
        "acc": round(float(correct.mean()), 3),
        "ece": round(expected_calibration_error(confidence.tolist(), correct.tolist()), 3),
        "wrong85": int((~correct & (confidence >= 0.85)).sum()),
    }


def memory_and_latency(name: str, backend: str) -> dict[str, float]:
    """Load the encoder in a fresh process: its PSS (MB) after loading and encoding, load seconds, single-text
    latency p50/p95 (ms) and batched texts per second."""
    code = f"""
import json, time, numpy as np, sys
sys.path.insert(0, {str(ROOT)!r})
t = time.perf_counter()
from intelligence.encoders import load_encoder
e = load_encoder({name!r}, {backend!r})
e.encode(["warm up"])
load = time.perf_counter() - t
texts = [r.split(",")[0] for r in open({str(ROOT / "intelligence/eval/heldout.csv")!r}, encoding="utf-8")][1:120]
lat = []
for text in texts:
    s = time.perf_counter(); e.encode([text]); lat.append(time.perf_counter() - s)
s = time.perf_counter(); e.encode(texts * 2); batch = len(texts) * 2 / (time.perf_counter() - s)
pss = [int(l.split()[1]) for l in open("/proc/self/smaps_rollup") if l.startswith("Pss:")][0] / 1024
base = {{}}
print(json.dumps(dict(pss_mb=round(pss), load_s=round(load, 2), p50_ms=round(float(np.percentile(lat, 50)) * 1e3, 1),
                      p95_ms=round(float(np.percentile(lat, 95)) * 1e3, 1), batch_per_s=round(batch))))
"""
    baseline = subprocess.run(
        [
            sys.executable,
            "-c",
            "import numpy; print([int(l.split()[1]) for l in open('/proc/self/smaps_rollup') "
            "if l.startswith('Pss:')][0] / 1024)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["pss_over_numpy_mb"] = round(result["pss_mb"] - float(baseline.stdout))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoders", default="")
    parser.add_argument("--quick", action="store_true", help="cross-validation and evaluation sets only")
    parser.add_argument("--backend", default="onnx", help="how all-MiniLM-L6-v2 runs: onnx, numpy or torch")
    args = parser.parse_args()

    import django

    django.setup()
    from sklearn.model_selection import StratifiedKFold

    from intelligence.chunking import read_document
    from intelligence.classifier import INTENTS, LEXICAL_WEIGHT, Members, fit_temperature, softmax
    from intelligence.encoders import ENCODERS, EncoderUnavailable, load_encoder
    from intelligence.facts import rank_snippets
    from intelligence.retrieval import Snippet

    names = [n for n in args.encoders.split(",") if n] or list(ENCODERS)
    seed = read(ROOT / "intelligence/data/intent_examples.csv")
    texts = [r["text"] for r in seed]
    labels = np.array([INTENTS.index(r["intent"]) for r in seed])
    languages = np.array([r["language"] for r in seed])
    styles = np.array([r["style"] for r in seed])
    groups = np.array([business_group(r["business"]) for r in seed])
    english = languages == "en"
    sets = {
        "multilingual": read(ROOT / "intelligence/eval/multilingual.csv"),
        "heldout": read(ROOT / "intelligence/eval/heldout.csv"),
        "public_chat": read(ROOT / "intelligence/eval/public_chat.csv"),
    }
    print(
        f"{len(seed)} seed examples ({int(english.sum())} English, {int((~english).sum())} in "
        f"{len(set(languages)) - 1} other languages)"
    )

    for name in names:
        try:
            encoder = load_encoder(name, args.backend)
        except EncoderUnavailable as exc:
            print(f"\n## {name}: skipped ({exc})")
            continue
        print(f"\n## {name} ({ENCODERS[name].dimensions} dimensions)", flush=True)
        started = time.perf_counter()
        vectors = encoder.encode(texts)
        print(f"embedded {len(texts)} examples in {time.perf_counter() - started:.1f} s")

        def fit_scores(train: np.ndarray, test_texts: list[str], test_vectors: np.ndarray) -> np.ndarray:
            members = Members.fit("ensemble", [texts[i] for i in train], vectors[train], labels[train])  # noqa: B023 (called in the same iteration)
            parts = members.member_logits(test_texts, test_vectors)
            return parts["embedding"] + LEXICAL_WEIGHT * parts["lexical"]

        def calibrated(train: np.ndarray, test_texts: list[str], test_vectors: np.ndarray) -> np.ndarray:
            inner = np.zeros((len(train), len(INTENTS)))
            for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(train, labels[train]):
                inner[b] = fit_scores(train[a], [texts[i] for i in train[b]], vectors[train[b]])  # noqa: B023 (called in the same iteration)
            temperature = fit_temperature(inner, labels[train])
            return softmax(fit_scores(train, test_texts, test_vectors) / temperature)

        nearest: dict[int, np.ndarray] = {}

        def cross_validate(fold_of: np.ndarray) -> np.ndarray:
            probabilities = np.zeros((len(labels), len(INTENTS)))
            closest = np.zeros(len(labels))
            for fold in np.unique(fold_of):
                test, train = np.where(fold_of == fold)[0], np.where(fold_of != fold)[0]
                probabilities[test] = calibrated(train, [texts[i] for i in test], vectors[test])  # noqa: B023 (called in the same iteration)
                closest[test] = (vectors[test] @ vectors[train].T).max(1)  # noqa: B023 (called in the same iteration)
            nearest[id(fold_of)] = closest  # noqa: B023 (called in the same iteration)
            return probabilities

        def pulled(probabilities: np.ndarray, closest: np.ndarray, threshold: float) -> np.ndarray:
            """As the product treats a lead less similar than the threshold to every example: pulled halfway to
            uniform."""
            out = probabilities.copy()
            far = closest < threshold
            out[far] = 0.5 * out[far] + 0.5 / len(INTENTS)
            return out

        rows = []
        by_style = cross_validate(styles)
        rows.append(("leave-style-out, English rows", metrics(labels[english], by_style[english], 3)))
        rows.append(("leave-style-out, other languages", metrics(labels[~english], by_style[~english], 3)))
        by_group = cross_validate(groups)
        rows.append(("leave-business-group-out, English rows", metrics(labels[english], by_group[english], 3)))
        rows.append(("leave-business-group-out, other languages", metrics(labels[~english], by_group[~english], 3)))
        by_language = cross_validate(languages)
        rows.append(("leave-language-out, other languages", metrics(labels[~english], by_language[~english], 3)))
        only_english = cross_validate(np.where(english, "en", "other"))
        rows.append(("trained on English only, other languages", metrics(labels[~english], only_english[~english], 3)))
        per_language: dict[str, object] = {
            lang: metrics(labels[languages == lang], only_english[languages == lang], 3)["f1"]
            for lang in sorted(set(languages) - {"en"})
        }
        everything = np.arange(len(labels))
        for set_name, set_rows in sets.items():
            set_texts = [r.get("text") or r["message"] for r in set_rows]
            set_labels = np.array([INTENTS.index(r["intent"]) for r in set_rows])
            probabilities = calibrated(everything, set_texts, encoder.encode(set_texts))
            if set_name == "multilingual":
                set_languages = np.array([r["language"] for r in set_rows])
                is_en = set_languages == "en"
                rows.append(("eval multilingual, English", metrics(set_labels[is_en], probabilities[is_en], 3)))
                rows.append(("eval multilingual, other", metrics(set_labels[~is_en], probabilities[~is_en], 3)))
                for lang in sorted(set(set_languages) - {"en"}):
                    mask = set_languages == lang
                    per_language[f"eval {lang} right"] = (
                        f"{int((probabilities[mask].argmax(1) == set_labels[mask]).sum())}/{int(mask.sum())}"
                    )
            else:
                rows.append((f"eval {set_name}", metrics(set_labels, probabilities, 3)))
        print("| scheme | n | macro-F1 | accuracy | ECE | wrong@0.85 |")
        print("| --- | --- | --- | --- | --- | --- |")
        for label, m in rows:
            print(f"| {label} | {m['n']} | {m['f1']} | {m['acc']} | {m['ece']} | {m['wrong85']} |")
        print("English-only training, macro-F1 per language; evaluation set right per language:", per_language)
        # The unfamiliarity threshold on this encoder's similarity scale: candidates at quantiles of how close a
        # held-out row is to its nearest training example; wrong@0.85 and the share at >= 0.85, per scheme.
        print("| min similarity | leave-style-out wrong@0.85 / share@0.85 | leave-business-out | leave-language-out |")
        print("| --- | --- | --- | --- |")
        schemes = [(by_style, styles), (by_group, groups), (by_language, languages)]
        pooled = np.concatenate([nearest[id(f)] for _, f in schemes])
        for q in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4):
            threshold = round(float(np.quantile(pooled, q)), 2) if q else 0.0
            cells = []
            for probabilities, fold_of in schemes:
                p = pulled(probabilities, nearest[id(fold_of)], threshold)
                scored = ~english if fold_of is languages else np.ones(len(labels), dtype=bool)  # English is no fold
                wrong = (p.argmax(1) != labels) & (p.max(1) >= 0.85)
                cells.append(f"{wrong[scored].mean():.3f} / {(p.max(1) >= 0.85)[scored].mean():.2f}")
            print(f"| {threshold} | " + " | ".join(cells) + " |", flush=True)

        if args.quick:
            continue

        # Choosing the fact that answers: the product's re-ranking over the nearest chunks, in memory.
        class Adapter:
            def embed(self, items: list[str]) -> list[list[float]]:
                return encoder.encode(list(items)).tolist()  # noqa: B023 (called in the same iteration)

        for label, folder, fact_set in (
            ("demo studio", ROOT / "intelligence/data/demo_knowledge", "fact_choice_multilingual.csv"),
            ("demo studio (English dev set)", ROOT / "intelligence/data/demo_knowledge", "fact_choice.csv"),
            ("clinic", ROOT / "intelligence/eval/knowledge_clinic", "fact_choice_clinic.csv"),
        ):
            chunks = [(title, c) for p in sorted(folder.iterdir()) for title, _, cs in [read_document(p)] for c in cs]
            chunk_vectors = encoder.encode([f"{c.heading}\n{c.text}" if c.heading else c.text for _, c in chunks])
            right: dict[str, list[bool]] = defaultdict(list)
            for row in read(ROOT / "intelligence/eval" / fact_set):
                vector = encoder.encode([row["message"]])[0]
                similarity = chunk_vectors @ vector
                candidates = np.argsort(-similarity)[:8]
                snippets = [
                    Snippet(chunks[i][0], chunks[i][1].heading, chunks[i][1].text, float(similarity[i]))
                    for i in candidates
                ]
                best = rank_snippets(
                    text=row["message"],
                    vector=vector.tolist(),
                    snippets=snippets,
                    embedder=Adapter(),  # type: ignore[arg-type]
                )[0]
                right[row.get("language") or "en"].append(best.heading in row["answer"].split("|"))
            top1 = ", ".join(f"{lang} {np.mean(v):.2f}" for lang, v in sorted(right.items()))
            print(f"fact choice top-1, {label}: {top1}")
        print("speed and memory (fresh process):", memory_and_latency(name, args.backend), flush=True)


if __name__ == "__main__":
    main()
