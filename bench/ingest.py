"""Ingest throughput: POST /api/leads/ (a new person each request; with and without an Idempotency-Key) against
GET /healthz on the same gunicorn server, from wrk on loopback (bounded by time), in one run so the ratio holds on
a noisy machine.

    .venv/bin/python bench/ingest.py [--workers 5] [--connections 8] [--seconds 10] [--database bizpilot_bench]

The server is `make run`'s gunicorn (WEB_CONCURRENCY processes) on a database of its own; the jobs the leads queue
are not run (no worker), as the web server's cost is what is measured. Goal: ingest at least 0.8x the health
check's rate and p95 under 50 ms at concurrency 8."""

from __future__ import annotations

import argparse
import json

from common import Gunicorn, api_key, bench_database, wrk

POST = """
local counter = 0
local thread_id = 0
setup = function(thread) thread:set("id", math.random(1, 1000000000)) end
init = function(args) thread_id = id end
request = function()
  counter = counter + 1
  local body = string.format('{"name": "Bench %d", "email": "b%d-%d@ingest.example", "message": "We need a new '
    .. 'website for our salon next month, can you quote?"}', counter, thread_id, counter)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer KEY"}
  IDEMPOTENCY
  return wrk.format("POST", "/api/leads/", headers, body)
end
"""


def main() -> None:
    from bizpilot.run import web_concurrency

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=web_concurrency({}))
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database", default="bizpilot_bench_ingest")
    parser.add_argument("--existing", action="store_true", help="use the database as it is (cost growth)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    database = bench_database(args.database, fresh=not args.existing)
    key = api_key(database)
    server = Gunicorn(database, workers=args.workers)
    plain = POST.replace("KEY", key).replace("IDEMPOTENCY", "")
    keyed = POST.replace("KEY", key).replace(
        "IDEMPOTENCY", 'headers["Idempotency-Key"] = string.format("k-%d-%d", thread_id, counter)'
    )

    def healthz_run() -> dict:
        # No worker runs here: the jobs the leads queued would make /healthz answer `stalled` (503) after a minute.
        import psycopg

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("DELETE FROM django_q_ormq")
        return wrk(f"{server.url}/healthz", seconds=args.seconds, connections=args.connections)

    try:
        wrk(f"{server.url}/healthz", seconds=2, connections=args.connections)  # warm every web process
        wrk(server.url, script=plain, seconds=2, connections=args.connections)
        results = {
            "healthz": healthz_run(),
            "post_leads": wrk(server.url, script=plain, seconds=args.seconds, connections=args.connections),
            "post_leads_idempotency_key": wrk(
                server.url, script=keyed, seconds=args.seconds, connections=args.connections
            ),
            "healthz_again": healthz_run(),
        }
    finally:
        server.stop()
    health = (results["healthz"]["rps"] + results["healthz_again"]["rps"]) / 2
    if args.json:
        print(json.dumps({"workers": args.workers, "connections": args.connections, **results}, indent=1))
        return
    print(f"gunicorn, {args.workers} processes, wrk {args.connections} connections, {args.seconds} s per run\n")
    print("| request | requests/s | vs /healthz | p50 ms | p95 ms | p99 ms | errors | non-2xx |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['rps'] / health:.2f}x | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['errors']} | {r['non2xx']} |"
        )


if __name__ == "__main__":
    main()
