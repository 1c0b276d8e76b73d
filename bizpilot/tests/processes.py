"""Helpers for the tests that run real processes (web servers, job workers, redis-server, the embedded database):
a free port, the test database's URL for a child process, and waiting for a condition with a clear failure."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

from django.db import connection


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database this test run uses, for a child process (a worker, a server) to share it."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    host = quote(db["HOST"] or db.get("OPTIONS", {}).get("host", ""), safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    processes: Iterable[subprocess.Popen] = (),
    tick: Callable[[], object] | None = None,
    every: float = 0.5,
    logs: Iterable[Path] = (),
) -> float:
    """Seconds until `condition()` holds; fails after `timeout`, or at once when one of `processes` exits. A failure
    quotes the end of each of `logs` (the child processes' output), so that a CI run says why."""
    watched = list(processes)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if tick:
            tick()
        if condition():
            return time.monotonic() - started
        for process in watched:
            if process.poll() is not None:
                raise AssertionError(
                    f"a process exited with {process.returncode} while waiting for {what}{_tails(logs)}"
                )
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{_tails(logs)}")


def _tails(logs: Iterable[Path], size: int = 4000) -> str:
    parts = []
    for path in logs:
        text = path.read_text(errors="replace") if path.exists() else "(no output)"
        parts.append(f"\n--- the end of {path.name} ---\n{text[-size:]}")
    return "".join(parts)
