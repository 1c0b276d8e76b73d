"""How the costs grow with the data: ingest, the pipeline and the review queue's page with 1,000, 10,000 and
100,000 stored leads (each with its history: bench/analytics_data.py), one database per size, in one command.

    .venv/bin/python bench/growth.py [--sizes 1000 10000 100000] [--chart docs/images/perf-growth.svg]

For each size: a fresh database is migrated, seeded (seed_demo) and filled; then bench/ingest.py (gunicorn and
wrk, POST /api/leads/ against /healthz), bench/pipeline.py (2 LLM worker processes, Claude stubbed at 0.5 s) and
the review queue (Messaging -> Review queue, as the admin, 20 requests through Django's test client, with its SQL
query count). Prints a Markdown table and writes an SVG chart of each cost against the size (log scale)."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, bench_database, manage

from bizpilot.stats import percentile

DATABASE = "bizpilot_bench_growth"
REVIEW_URL = "/admin/messaging/reviewqueueitem/"


def run_json(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT / "bench", capture_output=True, text=True, check=True, env=os.environ
    )
    start = done.stdout.index("{")
    return json.loads(done.stdout[start:])


def review_page(database: str) -> dict:
    """Run in a child process: the review queue page's p50/p95 and its query count."""
    os.environ["DATABASE_URL"] = database
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username="admin"))
    times = []
    for _ in range(22):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(REVIEW_URL)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    times = times[2:]  # the first requests warm the caches
    return {
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "queries": len(queries.captured_queries),
    }


def chart(rows: list[dict], path: Path) -> None:
    """One panel per cost, the sizes on a log axis: flat lines are what the design promises."""
    series = [
        ("POST /api/leads/ p95 (ms)", [r["ingest"]["post_leads"]["p95_ms"] for r in rows]),
        ("/healthz p95 (ms)", [r["ingest"]["healthz"]["p95_ms"] for r in rows]),
        ("review queue p95 (ms)", [r["review"]["p95_ms"] for r in rows]),
        ("classify p95 (ms)", [r["pipeline"]["stages"]["classify"]["p95_ms"] for r in rows]),
        ("retrieve p95 (ms)", [r["pipeline"]["stages"]["retrieve"]["p95_ms"] for r in rows]),
        ("lead to draft p50 (s, 2 workers)", [r["pipeline"]["throughput"][0]["lead_to_draft_p50_s"] for r in rows]),
    ]
    sizes = [r["size"] for r in rows]
    width, panel_h, left, top = 640, 90, 230, 30
    height = top + panel_h * len(series) + 30
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes)) or 1
    x = lambda s: left + (math.log10(s) - lo) / ((hi - lo) or 1) * (width - left - 40)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
        '<text x="10" y="18" font-weight="bold">Cost against stored leads (log scale): flat is the goal</text>',
    ]
    for i, (label, values) in enumerate(series):
        y0 = top + i * panel_h
        peak = max(values) * 1.25 or 1
        y = lambda v: y0 + panel_h - 15 - v / peak * (panel_h - 30)  # noqa: E731, B023
        parts.append(f'<text x="10" y="{y0 + panel_h / 2}">{label}</text>')
        parts.append(
            f'<line x1="{left}" y1="{y0 + panel_h - 15}" x2="{width - 30}" y2="{y0 + panel_h - 15}" stroke="#ccc"/>'
        )
        points = " ".join(f"{x(s):.0f},{y(v):.0f}" for s, v in zip(sizes, values, strict=True))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#2563eb" stroke-width="2"/>')
        for s, v in zip(sizes, values, strict=True):
            parts.append(f'<circle cx="{x(s):.0f}" cy="{y(v):.0f}" r="3" fill="#2563eb"/>')
            parts.append(f'<text x="{x(s) - 10:.0f}" y="{y(v) - 6:.0f}">{v:.1f}</text>')
    for s in sizes:
        parts.append(f'<text x="{x(s) - 15:.0f}" y="{height - 8}">{s:,}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--chart", default=str(ROOT / "docs/images/perf-growth.svg"))
    parser.add_argument("--review", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.review:
        print(json.dumps(review_page(args.review)))
        return
    rows = []
    for size in args.sizes:
        database = bench_database(DATABASE, fresh=True)
        manage(database, "seed_demo")
        env = {**os.environ, "DATABASE_URL": database}
        subprocess.run(
            [sys.executable, "bench/analytics_data.py", "--leads", str(size)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        ingest = run_json(
            "ingest.py", "--existing", "--database", DATABASE, "--seconds", "6", "--json", "--workers", "3"
        )
        pipeline = run_json(
            "pipeline.py",
            "--existing",
            "--database",
            DATABASE,
            "--workers",
            "2",
            "--leads",
            "60",
            "--stage-leads",
            "30",
            "--json",
        )
        review = run_json("growth.py", "--review", database)
        rows.append({"size": size, "ingest": ingest, "pipeline": pipeline, "review": review})
        print(f"{size:,} leads done", file=sys.stderr)
    print(
        "| stored leads | POST /api/leads/ req/s | p95 ms | /healthz req/s | lead to draft p50 s | leads/hour "
        "(2 workers) | retrieve p95 ms | classify p95 ms | review queue p50 / p95 ms | its queries |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        post, health = r["ingest"]["post_leads"], r["ingest"]["healthz"]
        run, stages = r["pipeline"]["throughput"][0], r["pipeline"]["stages"]
        print(
            f"| {r['size']:,} | {post['rps']:.0f} | {post['p95_ms']:.1f} | {health['rps']:.0f} | "
            f"{run['lead_to_draft_p50_s']} | {run['leads_per_hour']:,} | {stages['retrieve']['p95_ms']} | "
            f"{stages['classify']['p95_ms']} | {r['review']['p50_ms']} / {r['review']['p95_ms']} | "
            f"{r['review']['queries']} |"
        )
    chart(rows, Path(args.chart))
    print(f"\nchart: {args.chart}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
