"""`make run` as a user runs it (`python -m bizpilot.run`, on the test database): gunicorn serves with
WEB_CONCURRENCY processes, the LLM queue's workers preload the models so the first lead is drafted at once, and Ctrl-C
stops everything cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from bizpilot.tests.processes import free_port, test_database_url

pytestmark = pytest.mark.timeout(300)


def call(url: str, *, key: str = "", body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode() if body else None, method="POST" if body else "GET"
    )
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_make_run_serves_with_gunicorn_preloads_the_models_and_stops_on_ctrl_c(demo_knowledge, tmp_path: Path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "BIZPILOT_ENV": "development",
        "BIZPILOT_DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WORKER_PROCESSES": "1",
        "LLM_WORKER_PROCESSES": "1",
        "JOBS_SYNC": "0",
        "HF_HUB_OFFLINE": "1",
    }
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "bizpilot.run"], cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    output = lambda: (tmp_path / "run.log").read_text(errors="replace")  # noqa: E731
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 180
        while "BizPilot is running" not in output() or "preloaded the models" not in output():
            assert run.poll() is None and time.monotonic() < deadline, output()[-3000:]
            time.sleep(0.5)
        children = psutil.Process(run.pid).children(recursive=True)
        gunicorns = [p for p in children if "gunicorn" in " ".join(p.cmdline())]
        assert len(gunicorns) == 1 + 2, [p.cmdline() for p in gunicorns]  # the arbiter and WEB_CONCURRENCY workers
        found = re.search(r"API key: (bp_\S+)", output())
        assert found, output()[-3000:]
        key = found.group(1)
        # The LLM queue's worker preloaded before taking a job, so the first lead is drafted at once (it took 6-10
        # s); the default queue's worker, which never classifies, loads nothing.
        wait_for_preload = time.monotonic() + 60
        while "never classifies: it loads no models" not in output():
            assert time.monotonic() < wait_for_preload, output()[-3000:]
            time.sleep(0.5)
        assert output().count("preloaded the models") == 1, output()[-3000:]
        posted = time.monotonic()
        lead = call(
            f"{base}/api/leads/", key=key, body={"email": "first@run.example", "message": "Need a site next month"}
        )
        while call(f"{base}/api/leads/{lead['id']}/", key=key)["state"] != "drafted":
            assert time.monotonic() - posted < 30, output()[-3000:]
            time.sleep(0.1)
        first_lead_seconds = time.monotonic() - posted
        print(f"first lead drafted {first_lead_seconds:.2f} s after it was posted")
        assert first_lead_seconds < 5
        assert call(f"{base}/healthz")["status"] == "ok"
    finally:
        stopping = time.monotonic()
        run.send_signal(signal.SIGINT)  # Ctrl-C
        code: int | None
        try:
            code = run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            code = None
        stop_seconds = time.monotonic() - stopping
        log.close()
        print(output()[-2000:])
    assert code == 0 and stop_seconds < 20, (code, stop_seconds)
    assert "[bizpilot] stopped" in output()
    leftovers = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not leftovers, [p.cmdline() for p in leftovers]
