"""Vector search benchmark: HNSW (pgvector 0.6, cosine) against exact search at 10k / 100k / 1M chunks of 384 dims.

    .venv/bin/python bench/vector_search.py --sizes 10000 100000 1000000 --queries 100

Runs on the embedded PostgreSQL (or DATABASE_URL's server) in a separate database, `bizpilot_bench`, which it
rebuilds per size. Vectors are synthetic but shaped like sentence embeddings: unit vectors around topic centres
(one per 20 chunks) in a 48-dimensional latent space mapped into 384 dimensions, plus noise (uniform random
384-d vectors would make every neighbour almost equally far, which no text collection does).
`bench/embedding_stats.py` compares their nearest-neighbour similarities with real MiniLM embeddings of our texts.
Each row gets a `kind` (one of ten, the rarest 1%) for the filtered-search part.

Reports, per size: index build time; for each hnsw.ef_search, p50/p95 latency and recall@10 against the exact
top-10; and filtered searches by kind (common and rare): over-fetching through the index, and the exact plan the
product uses when the filter is selective. Results are printed as JSON lines and summarised at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DIMS = 384
K = 10
KINDS = ["faq", "doc", "policy", "pricing", "service", "case", "blog", "product", "team", "rare"]
KIND_WEIGHTS = np.array([0.25, 0.2, 0.12, 0.1, 0.1, 0.08, 0.07, 0.04, 0.03, 0.01])


def server_url() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    from bizpilot import embedded_db

    return embedded_db.ensure_running()


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


LATENT = 48  # sentence embeddings occupy a low-dimensional part of their 384-dimensional space
SPREAD = 0.35  # spread of a topic's chunks in the latent space; --spread raises it for a harder, less clustered set


def synthetic(n: int, rng: np.random.Generator, space: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Unit vectors around topic centres in a 48-dimensional latent space, mapped into 384 dimensions, sharing one
    common direction (real sentence embeddings are anisotropic: unrelated texts still score about 0.15)."""
    centres, projection, common = space
    picks = rng.integers(0, len(centres), size=n)
    latent = centres[picks] + rng.normal(scale=SPREAD, size=(n, LATENT)).astype(np.float32)
    vectors = latent @ projection + common + rng.normal(scale=0.02, size=(n, DIMS)).astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def make_space(rng: np.random.Generator, n: int = 40_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The topics grow with the collection (one per 20 chunks, at least 2,000), so neighbourhoods stay crowded."""
    centres = rng.normal(size=(max(2000, n // 20), LATENT)).astype(np.float32)
    projection = (rng.normal(size=(LATENT, DIMS)) / np.sqrt(LATENT)).astype(np.float32)
    common = rng.normal(size=DIMS).astype(np.float32)
    common *= 8.7 / np.linalg.norm(common)
    return centres, projection, common


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def one(conn: psycopg.Connection, sql: str) -> Any:
    """The single value a query returns."""
    row = conn.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


def build(
    conn: psycopg.Connection, n: int, rng: np.random.Generator, centres: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> dict:
    conn.execute("DROP TABLE IF EXISTS chunks")
    conn.execute("CREATE TABLE chunks (id bigint PRIMARY KEY, kind text NOT NULL, embedding vector(384) NOT NULL)")
    started = time.perf_counter()
    kinds = rng.choice(len(KINDS), size=n, p=KIND_WEIGHTS)
    batch = 50_000
    with conn.cursor().copy("COPY chunks (id, kind, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "text", "vector"])
        for start in range(0, n, batch):
            vectors = synthetic(min(batch, n - start), rng, centres)
            for offset, vector in enumerate(vectors):
                copy.write_row([start + offset, KINDS[kinds[start + offset]], vector])
    load_s = time.perf_counter() - started
    conn.execute("CREATE INDEX chunks_kind ON chunks (kind)")
    conn.execute("SET maintenance_work_mem = '4GB'")
    conn.execute("SET max_parallel_maintenance_workers = 1")
    started = time.perf_counter()
    conn.execute(
        "CREATE INDEX chunks_hnsw ON chunks USING hnsw (embedding vector_cosine_ops) "
        "WITH (m = 16, ef_construction = 64)"
    )
    build_s = time.perf_counter() - started
    conn.execute("ANALYZE chunks")
    size = one(conn, "SELECT pg_size_pretty(pg_relation_size('chunks_hnsw'))")
    return {"load_s": round(load_s, 1), "index_build_s": round(build_s, 1), "index_size": size}


def exact(conn, query: np.ndarray, kind: str | None = None) -> list[int]:
    """The true top-k by a sequential scan (the index is switched off)."""
    conn.execute("SET enable_indexscan = off")
    if kind:
        sql, params = "SELECT id FROM chunks WHERE kind = %s ORDER BY embedding <=> %s LIMIT %s", [kind, query, K]
    else:
        sql, params = "SELECT id FROM chunks ORDER BY embedding <=> %s LIMIT %s", [query, K]
    rows = conn.execute(sql, params).fetchall()
    conn.execute("SET enable_indexscan = on")
    return [r[0] for r in rows]


def timed(conn, sql: str, params: list) -> tuple[list[int], float]:
    started = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    return [r[0] for r in rows], (time.perf_counter() - started) * 1000


def run_size(url: str, n: int, queries: int, ef_values: list[int], seed: int) -> dict:
    rng = np.random.default_rng(seed)
    centres = make_space(rng, n)
    # No server-side prepared statements: a plan cached with the index on would be reused with it off (and back).
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        register_vector(conn)
        result = {"size": n, **build(conn, n, rng, centres)}
        probes = synthetic(queries, rng, centres)
        truth = [exact(conn, q) for q in probes]
        for ef in ef_values:
            conn.execute(f"SET hnsw.ef_search = {ef}")
            latencies, recalls = [], []
            for q, expected in zip(probes, truth, strict=True):
                got, ms = timed(conn, "SELECT id FROM chunks ORDER BY embedding <=> %s LIMIT %s", [q, K])
                latencies.append(ms)
                recalls.append(len(set(got) & set(expected)) / K)
            result[f"ef{ef}"] = {
                "p50_ms": round(percentile(latencies, 50), 2),
                "p95_ms": round(percentile(latencies, 95), 2),
                "recall_at_10": round(float(np.mean(recalls)), 4),
            }
        result["filtered"] = filtered(conn, probes[: max(20, queries // 2)])
    return result


def filtered(conn, probes: np.ndarray) -> dict:
    """Filter by kind. pgvector 0.6 filters after the index scan, so a plain filtered HNSW query can return fewer
    than k rows; compare that with over-fetching and with the exact plan for selective filters."""
    conn.execute("SET hnsw.ef_search = 100")
    out = {}
    for kind in ["faq", "rare"]:
        share = float(KIND_WEIGHTS[KINDS.index(kind)])
        plain, over, exact_plan = [], [], []
        for q in probes:
            expected = exact(conn, q, kind)
            got, ms = timed(
                conn, "SELECT id FROM chunks WHERE kind = %s ORDER BY embedding <=> %s LIMIT %s", [kind, q, K]
            )
            plain.append((len(got), len(set(got) & set(expected)) / K, ms))
            # Over-fetch: ask the index for k / share * 2 candidates (capped by ef_search), filter, keep k.
            fetch = min(1000, int(K / share * 2))
            conn.execute(f"SET hnsw.ef_search = {max(100, fetch)}")
            got, ms = timed(
                conn,
                "SELECT id FROM (SELECT id, kind, embedding <=> %s AS d FROM chunks "
                "ORDER BY embedding <=> %s LIMIT %s) c WHERE kind = %s ORDER BY d LIMIT %s",
                [q, q, fetch, kind, K],
            )
            conn.execute("SET hnsw.ef_search = 100")
            over.append((len(got), len(set(got) & set(expected)) / K, ms))
            conn.execute("SET enable_indexscan = off")
            got, ms = timed(
                conn, "SELECT id FROM chunks WHERE kind = %s ORDER BY embedding <=> %s LIMIT %s", [kind, q, K]
            )
            conn.execute("SET enable_indexscan = on")
            exact_plan.append((len(got), 1.0, ms))
        out[kind] = {
            "share": share,
            **{
                name: summarise(rows)
                for name, rows in [("hnsw_plain", plain), ("hnsw_overfetch", over), ("exact_by_kind", exact_plan)]
            },
        }
    return out


def summarise(rows: list[tuple[int, float, float]]) -> dict:
    return {
        "rows_returned_min": min(r[0] for r in rows),
        "recall_at_10": round(float(np.mean([r[1] for r in rows])), 4),
        "p50_ms": round(percentile([r[2] for r in rows], 50), 2),
        "p95_ms": round(percentile([r[2] for r in rows], 95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spread", type=float, default=SPREAD, help="topic spread (default %(default)s)")
    args = parser.parse_args()
    globals()["SPREAD"] = args.spread

    url = server_url()
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = 'bizpilot_bench'").fetchone():
            admin.execute("CREATE DATABASE bizpilot_bench")
    bench_url = with_database(url, "bizpilot_bench")
    with psycopg.connect(bench_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        version = one(conn, "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    print(
        json.dumps({"pgvector": version, "dims": DIMS, "k": K, "queries": args.queries, "spread": args.spread}),
        flush=True,
    )
    for n in args.sizes:
        print(json.dumps(run_size(bench_url, n, args.queries, args.ef, args.seed)), flush=True)


if __name__ == "__main__":
    main()
