"""The CSV export streams: its peak memory does not grow with the number of leads. On a database of its own with
100,000 leads, a fresh process exports the first 1,000, 10,000 and then all 100,000 (`leads.csv_export`, the code
behind the admin's export and `GET /api/leads/export.csv`) and reports its peak RSS and rows per second.

    .venv/bin/python bench/csv_export.py [--leads 100000]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from common import ROOT, bench_database

CHILD = """
import json, resource, sys, time
import django
django.setup()
from leads.csv_export import leads_csv_lines
from leads.models import Lead
limit = int(sys.argv[1])
ids = Lead.objects.order_by("id").values_list("id", flat=True)
last = ids[limit - 1]
started, size, lines = time.perf_counter(), 0, 0
for line in leads_csv_lines(Lead.objects.filter(id__lte=last)):
    size += len(line)
    lines += 1
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"leads": lines - 1, "bytes": size, "seconds": round(took, 2), "peak_rss_mb": round(peak, 1)}))
"""


def seed(n: int) -> None:
    from django.db import connection

    from leads.models import Lead

    have = Lead.objects.count()
    if have >= n:
        return
    with connection.cursor() as cursor:  # one statement: a bench, not the product's ingest
        cursor.execute(
            """INSERT INTO leads_lead (name, email, phone, company, source, preferred_channel, metadata, state, intent,
                   intent_confidence, processing_attempts, processing_by, last_error, auto_process, created_by,
                   created_at, updated_at)
               SELECT 'Lead ' || g, 'lead' || g || '@bench.example', '+4477009' || lpad(g::text, 5, '0'),
                      'Company ' || (g %% 500), (ARRAY['api','typeform','csv','sms'])[1 + g %% 4], 'email', '{}',
                      (ARRAY['drafted','contacted','replied','converted','lost'])[1 + g %% 5],
                      (ARRAY['hot','warm','cold'])[1 + g %% 3], 0.5 + (g %% 50) / 100.0, 0, '', '', true, 'bench',
                      now() - (g || ' minutes')::interval, now()
               FROM generate_series(%s, %s) g""",
            [have + 1, n],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args()
    url = bench_database("bizpilot_bench_csv")
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    seed(args.leads)
    results = []
    for limit in (1_000, 10_000, args.leads):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(limit)],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "bizpilot.settings"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    small, big = results[0], results[-1]
    print(
        json.dumps(
            {
                "runs": results,
                "peak_rss_ratio_largest_to_smallest": round(big["peak_rss_mb"] / small["peak_rss_mb"], 3),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
