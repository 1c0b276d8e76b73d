"""Shared by the benchmarks: a database of their own on the embedded PostgreSQL (or DATABASE_URL's server), a
gunicorn server on a free loopback port, and wrk (Debian's, installed when missing) as the load tool."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from bizpilot import embedded_db

    return embedded_db.ensure_running()


def bench_database(name: str, *, fresh: bool = False) -> str:
    """The URL of database `name` on the same server, created (and migrated) when missing; `fresh` drops it first."""
    import psycopg

    url = server_url()
    base = url.rpartition("/")[0]
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    target = f"{base}/{name}"
    env = {**os.environ, "DATABASE_URL": target}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    return target


def manage(database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def api_key(database_url: str) -> str:
    out = manage(database_url, "create_api_key", f"bench-{int(time.time())}")
    found = re.search(r"bp_\S+", out)
    assert found, out
    return found.group(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn bizpilot.wsgi` as `make run` starts it, on its own port and database; jobs are queued, not run."""

    def __init__(self, database_url: str, *, workers: int, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JOBS_SYNC": "0",
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT": "1000000/minute",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "bizpilot.wsgi:application", "-b", f"127.0.0.1:{self.port}"),
                *("-w", str(workers), "--log-level", "warning"),
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2)  # noqa: S310 (loopback)
                break
            except urllib.error.HTTPError:
                break  # it answers (503 without a worker is fine here)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH {\\"requests\\": %d, \\"seconds\\": %f, \\"errors\\": %d, \\"non2xx\\": %d, "
    .. "\\"p50_ms\\": %f, \\"p95_ms\\": %f, \\"p99_ms\\": %f}\\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "/usr/bin/wrk"


def wrk(url: str, *, script: str = "", connections: int = 8, seconds: int = 10, threads: int = 2) -> dict:
    """Run wrk against `url`; requests/s, p50/p95/p99 in ms, errors (non-2xx/3xx answers counted apart)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script + WRK_REPORT)
        lua.flush()
        done = subprocess.run(
            [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "-s", lua.name, url],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in done.stdout.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / result["seconds"]
    return result
