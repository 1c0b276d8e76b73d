"""The job worker under a watchdog: `manage.py run_worker` runs django-q2's `qcluster` as a child and restarts it
when it stalls.

Why: when a worker process of a django-q2 cluster dies while it waits for work (killed, out of memory), it can leave
the cluster's internal task queue locked; the sentinel starts a new worker, but no worker ever receives a task again
and the cluster also hangs on shutdown (django-q2 issue #23, inherited from django-q #394 and #200). Nothing inside
the cluster notices, so this process watches from outside, by what it can measure:

- the queue (bizpilot.queue): a task has waited longer than WORKER_STALL_SECONDS and none finished in as long;
- the workers: each process titles itself `qcluster <name> idle` or `... processing <task>` (setproctitle), so a
  worker busy on a long task is told apart from a frozen cluster.

Stalled and no worker busy: the cluster is stopped (SIGTERM, then SIGKILL of its whole process group after
WORKER_STOP_SECONDS), the tasks it had taken are handed out again at once when no other cluster is alive (else the
broker's `retry` does it), and a new cluster starts. Tasks are idempotent, so a task that runs again does nothing
twice. The watchdog also publishes each worker's resident memory and counts restarts (/healthz, /metrics).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psutil
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from bizpilot.queue import RESTARTS_KEY, WORKERS_KEY, queue_state

logger = logging.getLogger("bizpilot.worker")


@dataclass(frozen=True)
class WorkerProcess:
    pid: int
    rss_bytes: int
    busy: bool
    title: str


def cluster_workers(root_pid: int) -> list[WorkerProcess]:
    """The worker processes among `root_pid`'s descendants, by their titles."""
    try:
        children = psutil.Process(root_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            title = " ".join(part for part in child.cmdline() if part).strip()
            rss = child.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if title.startswith("qcluster ") and (title.endswith(" idle") or " processing " in title):
            workers.append(WorkerProcess(child.pid, rss, " processing " in title, title))
    return workers


def release_taken_tasks() -> int:
    """Hand out again, now, the tasks a cluster had taken (their broker lock is in the future), when no other cluster
    is alive to be running them. Returns how many."""
    from django_q.models import OrmQ
    from django_q.status import Stat

    here = socket.gethostname()
    others = [
        stat
        for stat in Stat.get_all()
        if stat.status != "Stopped" and not (stat.host == here and not psutil.pid_exists(stat.pid))
    ]
    if others:
        return 0  # another cluster may be running them; the broker's retry hands them out in time
    return OrmQ.objects.filter(lock__gt=timezone.now()).update(lock=timezone.now())


def release_task_named(name: str) -> bool:
    """Hand out again, now, the taken task called `name` (its worker died with it). False when it is not queued."""
    from django_q.models import OrmQ

    for row in OrmQ.objects.filter(lock__gt=timezone.now()):
        if row.name() == name:
            return bool(OrmQ.objects.filter(pk=row.pk, lock=row.lock).update(lock=timezone.now()))
    return False


def task_name_in(title: str) -> str:
    """The task a worker's title says it is running (`qcluster <proc> processing <task name> '<func>'`)."""
    return title.split(" processing ", 1)[1].rsplit(" '", 1)[0] if " processing " in title else ""


class Supervisor:
    """Runs `command` (a qcluster) and keeps it working; `run()` returns when asked to stop (SIGTERM, SIGINT)."""

    def __init__(
        self,
        *,
        command: list[str],
        env: dict[str, str] | None = None,
        stall_seconds: int,
        check_seconds: float,
        stop_seconds: float,
        on_restart: Callable[[str], None] | None = None,
    ):
        self.command = command
        self.env = env
        self.stall_seconds = stall_seconds
        self.check_seconds = check_seconds
        self.stop_seconds = stop_seconds
        self.on_restart = on_restart
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.started_at = 0.0
        self.restarts = 0
        self.busy_titles: dict[int, str] = {}

    def request_stop(self, signum: int = 0, frame: Any = None) -> None:
        self.stopping.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self._start()
        while not self.stopping.wait(self.check_seconds):
            reason = self.check()
            if reason and not self.stopping.is_set():
                self.restart(reason)
        self._stop()
        return 0

    def check(self) -> str:
        """Why the cluster must be restarted now ("" when it is fine)."""
        assert self.process is not None
        if self.process.poll() is not None:
            return f"the cluster exited with code {self.process.returncode}"
        # A cluster gets one stall window to start its workers and finish a first task before it is judged.
        judged = time.monotonic() - self.started_at >= self.stall_seconds
        workers = cluster_workers(self.process.pid)
        # A worker that was busy at the last look and is gone now died with its task: hand the task out again at once
        # rather than after the broker's retry (the cluster itself starts a new worker).
        alive = {w.pid for w in workers}
        orphaned = [task_name_in(title) for pid, title in self.busy_titles.items() if pid not in alive]
        self.busy_titles = {w.pid: w.title for w in workers if w.busy}
        close_old_connections()
        try:
            for name in filter(None, orphaned):
                if release_task_named(name):
                    logger.warning("a worker died running %s; the task is handed out again", name)
            cache.set(
                WORKERS_KEY,
                {"at": timezone.now().isoformat(), "workers": [asdict(w) for w in workers]},
                timeout=max(60, int(self.check_seconds * 10)),
            )
            state = queue_state(stall_seconds=self.stall_seconds)
        except DatabaseError as exc:  # the database is away: that is not the cluster's fault
            logger.warning("watchdog could not read the queue: %s", exc)
            return ""
        if judged and state.stalled and not any(w.busy for w in workers):
            return (
                f"stalled: {state.waiting + state.in_flight} task(s) queued, the oldest for "
                f"{state.oldest_task_seconds:.0f} s, none finished in {self.stall_seconds} s and no worker busy "
                f"({len(workers)} alive)"
            )
        return ""

    def restart(self, reason: str) -> None:
        logger.error("restarting the job cluster: %s", reason)
        self._stop(grace=1.0)  # no worker is busy, and a frozen cluster never stops by itself
        close_old_connections()
        try:
            released = release_taken_tasks()
            self.restarts = int(cache.get(RESTARTS_KEY) or 0) + 1
            cache.set(RESTARTS_KEY, self.restarts, timeout=None)
        except DatabaseError as exc:
            logger.warning("could not release the stalled cluster's tasks: %s", exc)
            released = 0
        logger.warning("job cluster restarted (%d task(s) handed out again)", released)
        if self.on_restart:
            self.on_restart(reason)
        self._start()

    def _start(self) -> None:
        self.started_at = time.monotonic()
        self.busy_titles = {}
        self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)

    def _stop(self, grace: float | None = None) -> None:
        """SIGTERM to the cluster's main process (it stops its workers in order); after `grace` (`stop_seconds`),
        SIGKILL to its whole process group (a stalled cluster hangs on shutdown)."""
        grace = self.stop_seconds if grace is None else grace
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("the job cluster did not stop within %.0f s; killing it", grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its workers, pusher and monitor, if any are left
        process.wait()
