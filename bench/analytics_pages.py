"""Analytics at scale: every analytics page and metrics endpoint with 100,000 leads, about 320,000 delivery events
and 100,000 model calls stored (bench/analytics_data.py fills them), against GET /healthz in the same process.

    .venv/bin/python bench/analytics_pages.py --leads 100000 --repeat 5

Runs in its own database, `bizpilot_analytics_bench`, on the embedded PostgreSQL (or DATABASE_URL's server),
filled once and kept for the next run (--refill starts again). Each URL is requested through Django's test
client (the whole view: queries, charts, template), as a logged-in admin, for the default 30-day range and for
the whole 90 days; the JSON output has p50/p95 per URL and its ratio to the health check's p50."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DATABASE = "bizpilot_analytics_bench"
PAGES = [
    "/analytics/",
    "/analytics/messaging/",
    "/analytics/model/",
    "/analytics/experiments/",
    "/api/dashboard/metrics/",
    "/api/analytics/model-performance/",
]


def bench_database() -> None:
    """Point this process at the benchmark's own database, created and migrated on the same server when missing."""
    from common import bench_database as own_database  # beside this script

    os.environ["DATABASE_URL"] = own_database(DATABASE)


def timed(client, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    bench_database()

    import django

    django.setup()
    from analytics_data import fill  # beside this script
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    with connection.cursor() as cursor:
        if args.refill:
            cursor.execute("TRUNCATE leads_lead, intelligence_modelcall CASCADE")
        cursor.execute("SELECT count(*) FROM leads_lead WHERE source LIKE 'bench-%%'")
        (stored,) = cursor.fetchone()
    fill_seconds = None
    if stored < args.leads:
        started = time.perf_counter()
        fill(leads=args.leads - stored, days=90)
        fill_seconds = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        counts = {}
        for table in ("leads_lead", "messaging_message", "messaging_deliveryevent", "intelligence_modelcall"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]

    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench@bench.example", None
    )
    client = Client()
    client.force_login(admin)
    client.get("/healthz")  # warm: the first request imports and compiles
    for url in PAGES:
        client.get(url)

    baseline = timed(client, "/healthz", max(args.repeat, 10))
    base_p50 = statistics.median(baseline)
    results: list[dict[str, float | str]] = []
    for url in PAGES:
        for query in ("", "?days=90"):
            times = sorted(timed(client, url + query, args.repeat))
            p50 = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            results.append(
                {
                    "url": url + query,
                    "p50_ms": round(p50, 1),
                    "p95_ms": round(p95, 1),
                    "x_healthz": round(p50 / base_p50, 1),
                }
            )
    report = {
        "stored": counts,
        "fill_seconds": fill_seconds,
        "healthz_p50_ms": round(base_p50, 2),
        "repeat": args.repeat,
        "pages": results,
        "slowest_p95_ms": max(float(r["p95_ms"]) for r in results),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
