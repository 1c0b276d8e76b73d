"""The CSV import streams: its peak memory does not grow with the file. On a fresh database of its own, a fresh
process imports a 5,000-row file, another a 100,000-row file (`manage.py import_leads`, the code behind the admin's
upload), and each reports its peak RSS and rows per second. The suite holds the same property at 2,000 and 40,000
rows (`leads/tests/test_import_leads.py`).

    .venv/bin/python bench/csv_import.py [--rows 100000]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, bench_database

CHILD = """
import json, os, re, sys, time
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command("import_leads", sys.argv[1], stdout=open(os.devnull, "w"))
took = time.perf_counter() - started
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
print(json.dumps({"seconds": round(took, 1), "peak_rss_mb": round(peak, 1)}))
"""


def generate(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("Name,Email,Company,Message\n")
        for i in range(rows):
            handle.write(f'Person {i},{path.stem}.{i}@example.com,Company {i % 500},"We need a website, row {i}"\n')
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    url = bench_database("bizpilot_bench_import", fresh=True)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in (5_000, args.rows):
            path = generate(Path(folder) / f"rows{rows}.csv", rows)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)],
                cwd=ROOT,
                # DEBUG off, as in production (a debug process keeps the last 9,000 queries it ran).
                env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bizpilot.settings", "DEBUG": "0"},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            run = {"rows": rows, **json.loads(out.strip().splitlines()[-1])}
            run["rows_per_second"] = round(rows / run["seconds"])
            results.append(run)
    small, big = results
    ratio = round(big["peak_rss_mb"] / small["peak_rss_mb"], 3)
    print(json.dumps({"runs": results, "peak_rss_ratio_largest_to_smallest": ratio}, indent=1))


if __name__ == "__main__":
    main()
