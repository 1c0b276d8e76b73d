"""PostgreSQL stopped while the API takes leads: requests answer 503 JSON with Retry-After (never a 500), nothing
is half-written, and service resumes by itself when the database is back. A real gunicorn server on its own
embedded PostgreSQL (a separate data directory), stopped and started again with pg_ctl while three clients post."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bizpilot.tests.processes import free_port

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[2]


def pg_ctl(pgdata: Path, *args: str) -> None:
    from pgserver._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args]
    if os.name == "posix" and os.geteuid() == 0:  # pgserver runs the server as its own user when root starts it
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def post(url: str, key: str, n: int) -> tuple[int, dict, dict]:
    body = json.dumps({"name": f"Lead {n}", "email": f"outage{n}@shop.example", "message": "We need a website"})
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return error.code, parsed, dict(error.headers)


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(BIZPILOT_DATA_DIR=str(tmp_path), JOBS_SYNC="false", HF_HUB_OFFLINE="1", LOG_LEVEL="WARNING")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=180)
    subprocess.run([*manage, "createcachetable"], env=env, check=True, cwd=ROOT, timeout=60)
    key = (
        subprocess.run(
            [*manage, "create_api_key", "outage"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
        )
        .stdout.strip()
        .split()[-1]
    )
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bizpilot.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "2"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # it answers (503 degraded: no worker runs here)
        except OSError:
            time.sleep(0.5)
    yield base, key, tmp_path / "pg", env
    web.terminate()
    web.wait(timeout=30)
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(tmp_path / "pg", "-m", "fast", "-w", "stop")


def test_the_api_answers_503_while_postgres_is_down_and_resumes_after(server):
    base, key, pgdata, _env = server
    results: list[tuple[float, int, dict, dict]] = []
    stop = threading.Event()
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    def client():
        while not stop.is_set() and len(results) < 3000:
            with lock:
                n = next(counter)
            status, body, headers = post(f"{base}/api/leads/", key, n)
            with lock:
                results.append((time.monotonic(), status, body, headers))
            time.sleep(0.02)

    threads = [threading.Thread(target=client) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    pg_ctl(pgdata, "-m", "fast", "-w", "stop")
    stopped_at = time.monotonic()
    time.sleep(3)
    import pgserver

    pgserver.get_server(pgdata, cleanup_mode=None)  # started again, as the embedded default starts it
    restarted_at = time.monotonic()
    deadline = restarted_at + 90  # the clients go on until one is answered 202 after the restart (or time is up)
    while time.monotonic() < deadline and not any(at > restarted_at and status == 202 for at, status, _, _ in results):
        time.sleep(0.5)
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)

    statuses = [status for _, status, _, _ in results]
    assert set(statuses) <= {202, 503}, [r[1:3] for r in results if r[1] not in (202, 503)][:5]
    down = [r for r in results if r[1] == 503]
    assert down, "no request met the outage"
    assert all(r[2]["error"]["code"] == "unavailable" and r[3].get("Retry-After") == "5" for r in down)
    assert all(stopped_at - 1 <= at for at, *_ in down)  # the 503s are the outage's, not before it
    assert any(at > restarted_at and status == 202 for at, status, _, _ in results), "service did not resume"

    # Nothing half-written: every lead stored has its message, and every 202 is a stored lead.
    import psycopg

    from bizpilot import embedded_db

    accepted = {body["id"] for _, status, body, _ in results if status == 202}
    socket = _socket_dir(pgdata)
    with psycopg.connect(host=str(socket), user=embedded_db.SUPERUSER, dbname=embedded_db.DATABASE_NAME) as db:
        leads = {row[0] for row in db.execute("SELECT id FROM leads_lead")}
        orphans = db.execute(
            "SELECT count(*) FROM leads_lead l WHERE NOT EXISTS "
            "(SELECT 1 FROM leads_inboundmessage i WHERE i.lead_id = l.id)"
        ).fetchone()[0]
    assert accepted <= leads and orphans == 0


def _socket_dir(pgdata: Path) -> Path:
    """Where the server listens (pgserver's postmaster.pid says)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    return Path(lines[4])
