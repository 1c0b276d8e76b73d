"""The job workers under a watchdog: `manage.py run_worker` runs one django-q2 `qcluster` per queue (the default
queue and the LLM queue, settings.JOB_QUEUES) as children and restarts a cluster when it stalls.

Why: when a worker process of a django-q2 cluster dies while it waits for work (killed, out of memory), it can leave
the cluster's internal task queue locked; the sentinel starts a new worker, but no worker ever receives a task again
and the cluster also hangs on shutdown (django-q2 issue #23, inherited from django-q #394 and #200). Nothing inside
the cluster notices, so this process watches from outside, by what it can measure:

- its queue (bizpilot.queue): a task has waited longer than WORKER_STALL_SECONDS and none finished in as long (with
  a broker that cannot say how long a task waited, such as Redis: tasks waited all that time by the watchdog's clock);
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
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from typing import Any

import psutil
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from bizpilot.queue import RESTARTS_KEY, orm_broker, queue_state, report_workers

logger = logging.getLogger("bizpilot.worker")


# A new worker loading its models titles itself `qcluster <proc> starting` (intelligence.warmup): busy, not frozen,
# for at most this long.
WORKER_START_SECONDS = 180


@dataclass(frozen=True)
class WorkerProcess:
    pid: int
    rss_bytes: int
    busy: bool
    title: str

    @property
    def processing(self) -> bool:
        return " processing " in self.title

    @property
    def ready(self) -> bool:
        """Done starting: waiting for a job or running one."""
        return not self.title.endswith(" starting")


def ready_workers(root_pid: int) -> int:
    return sum(1 for worker in cluster_workers(root_pid) if worker.ready)


def cluster_workers(root_pid: int) -> list[WorkerProcess]:
    """The worker processes among `root_pid`'s descendants, by their titles (`idle`, `processing <task>`, or
    `starting` while a new worker loads its models: busy, unless it has been starting for too long)."""
    try:
        children = psutil.Process(root_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    workers = []
    for child in children:
        try:
            title = " ".join(part for part in child.cmdline() if part).strip()
            rss = child.memory_info().rss
            age = time.time() - child.create_time()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if not title.startswith("qcluster "):
            continue
        if title.endswith(" starting"):
            workers.append(WorkerProcess(child.pid, rss, age < WORKER_START_SECONDS, title))
        elif title.endswith(" idle") or " processing " in title:
            workers.append(WorkerProcess(child.pid, rss, " processing " in title, title))
    return workers


def release_taken_tasks(queue: str, *, elsewhere: Collection[int] = ()) -> int:
    """Hand out again, now, the tasks a cluster of `queue` had taken (their broker lock is in the future), when no
    other cluster is alive that may be running them; `elsewhere` are the pids of this host's clusters known to serve
    other queues. Returns how many. (Brokers other than the ORM hand a task out once: nothing to release.)"""
    from django_q.models import OrmQ
    from django_q.status import Stat

    if not orm_broker():
        return 0
    here = socket.gethostname()
    others = [
        stat
        for stat in Stat.get_all()
        if stat.status != "Stopped"
        and not (stat.host == here and (stat.pid in elsewhere or not psutil.pid_exists(stat.pid)))
    ]
    if others:
        return 0  # another cluster may be running them; the broker's retry hands them out in time
    return OrmQ.objects.filter(key=queue, lock__gt=timezone.now()).update(lock=timezone.now())


def release_task_named(queue: str, name: str) -> bool:
    """Hand out again, now, the taken task of `queue` called `name` (its worker died with it). False when it is not
    queued (or the broker hands tasks out once; the sweepers then pick its lead or message up)."""
    from django_q.models import OrmQ

    if not orm_broker():
        return False
    for row in OrmQ.objects.filter(key=queue, lock__gt=timezone.now()):
        if row.name() == name:
            return bool(OrmQ.objects.filter(pk=row.pk, lock=row.lock).update(lock=timezone.now()))
    return False


def task_name_in(title: str) -> str:
    """The task a worker's title says it is running (`qcluster <proc> processing <task name> '<func>'`)."""
    return title.split(" processing ", 1)[1].rsplit(" '", 1)[0] if " processing " in title else ""


class Supervisor:
    """Runs `command` (the qcluster of `queue`) and keeps it working: `check()` says why it must be restarted,
    `restart()` does it. `supervise()` runs several until asked to stop (SIGTERM, SIGINT)."""

    def __init__(
        self,
        *,
        command: list[str],
        queue: str,
        env: dict[str, str] | None = None,
        stall_seconds: int,
        check_seconds: float,
        stop_seconds: float,
        on_restart: Callable[[str], None] | None = None,
    ):
        self.command = command
        self.queue = queue
        self.env = {**(env if env is not None else os.environ), "Q_CLUSTER_NAME": queue}
        self.stall_seconds = stall_seconds
        self.check_seconds = check_seconds
        self.stop_seconds = stop_seconds
        self.on_restart = on_restart
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.busy_titles: dict[int, str] = {}
        self.waiting_since: float | None = None  # when this watchdog first saw tasks waiting (brokers without ages)
        self.elsewhere: set[int] = set()  # pids of this run_worker's clusters for other queues
        self.report_key = f"{socket.gethostname()}:{os.getpid()}:{queue}"

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
                if release_task_named(self.queue, name):
                    logger.warning("a worker died running %s; the task is handed out again", name)
            report_workers(
                self.report_key,
                {
                    "queue": self.queue,
                    "host": socket.gethostname(),
                    "at": timezone.now().isoformat(),
                    "workers": [asdict(w) for w in workers],
                },
                timeout=max(60, int(self.check_seconds * 10)),
            )
            state = queue_state(self.queue, stall_seconds=self.stall_seconds)
        except DatabaseError as exc:  # the database is away: that is not the cluster's fault
            logger.warning("watchdog could not read the %s queue: %s", self.queue, exc)
            return ""
        stalled = state.stalled
        if state.oldest_task_seconds is None:  # the broker cannot age its tasks: time them here
            now = time.monotonic()
            self.waiting_since = (self.waiting_since or now) if state.waiting else None
            waited = now - self.waiting_since if self.waiting_since else 0.0
            stalled = waited > self.stall_seconds and state.finished_recently == 0
        if judged and stalled and not any(w.busy for w in workers):
            return (
                f"stalled: {state.waiting + state.in_flight} task(s) queued on {self.queue}, none finished in "
                f"{self.stall_seconds} s and no worker busy ({len(workers)} alive)"
            )
        return ""

    def restart(self, reason: str) -> None:
        logger.error("restarting the %s job cluster: %s", self.queue, reason)
        self.stop(grace=1.0)  # no worker is busy, and a frozen cluster never stops by itself
        close_old_connections()
        try:
            released = release_taken_tasks(self.queue, elsewhere=self.elsewhere)
            self.restarts = int(cache.get(RESTARTS_KEY) or 0) + 1
            cache.set(RESTARTS_KEY, self.restarts, timeout=None)
        except DatabaseError as exc:
            logger.warning("could not release the stalled cluster's tasks: %s", exc)
            released = 0
        logger.warning("%s job cluster restarted (%d task(s) handed out again)", self.queue, released)
        if self.on_restart:
            self.on_restart(reason)
        self.start()

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.busy_titles = {}
        self.waiting_since = None
        self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)

    def stop(self, grace: float | None = None) -> None:
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
                logger.warning("the %s job cluster did not stop within %.0f s; killing it", self.queue, grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its workers, pusher and monitor, if any are left
        process.wait()


def supervise(supervisors: list[Supervisor], *, check_seconds: float) -> int:
    """Start every cluster, check each in turn every `check_seconds`, restart the ones that stall, and stop them all
    (in parallel, each within its stop grace) on SIGTERM or SIGINT."""
    stopping = threading.Event()

    def request_stop(signum: int = 0, frame: Any = None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def tell_each_the_others() -> None:  # a cluster restart must not wait on this host's clusters of other queues
        for one in supervisors:
            one.elsewhere = {other.process.pid for other in supervisors if other is not one and other.process}

    for supervisor in supervisors:
        supervisor.start()
    tell_each_the_others()
    while not stopping.wait(check_seconds):
        for supervisor in supervisors:
            reason = supervisor.check()
            if reason and not stopping.is_set():
                supervisor.restart(reason)
                tell_each_the_others()
    stoppers = [threading.Thread(target=supervisor.stop) for supervisor in supervisors]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join()
    return 0
