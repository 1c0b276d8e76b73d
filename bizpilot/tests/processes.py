"""Helpers for the tests that run real processes (web servers, job workers, redis-server, the embedded database):
a free port, the test database's URL for a child process, and waiting for a condition with a clear failure."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterable
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
) -> float:
    """Seconds until `condition()` holds; fails after `timeout`, or at once when one of `processes` exits."""
    watched = list(processes)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if tick:
            tick()
        if condition():
            return time.monotonic() - started
        for process in watched:
            assert process.poll() is None, f"a process exited with {process.returncode} while waiting for {what}"
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
