"""The job queue's state as the health check, the metrics and the worker's watchdog see it (reads only).

django-q2's ORM broker keeps each queued task as an OrmQ row whose `lock` is the time it may be taken: a waiting
task's lock is in the past (when it was queued), a task a cluster has taken has its lock in the future (until the
broker's `retry` hands it out again). Finished tasks (success or failure) are Task rows with a `stopped` time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

WORKERS_KEY = "bizpilot:workers"  # what the watchdog last saw of the cluster's workers (pid, rss, busy)
RESTARTS_KEY = "bizpilot:worker_restarts"  # how many times the watchdog restarted a cluster


@dataclass(frozen=True)
class QueueState:
    waiting: int
    in_flight: int
    oldest_task_seconds: float | None  # since the oldest queued task (waiting or taken) was queued or last taken
    finished_recently: int  # tasks finished within the stall window
    last_finished_seconds_ago: float | None
    stall_seconds: int
    stalled: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def queue_state(*, stall_seconds: int | None = None) -> QueueState:
    """Stalled: a queued task (waiting, or taken by a cluster that never finished it) is older than `stall_seconds`
    (WORKER_STALL_SECONDS) and no task finished in as long. A worker busy on a long task is told apart by the
    watchdog (bizpilot.worker), which sees what each worker does."""
    from django_q.conf import Conf
    from django_q.models import OrmQ, Task

    stall = stall_seconds if stall_seconds is not None else settings.WORKER_STALL_SECONDS
    now = timezone.now()
    taken = OrmQ.objects.filter(lock__gt=now)
    waiting = OrmQ.objects.filter(lock__lte=now)
    oldest_waiting = waiting.aggregate(oldest=Min("lock"))["oldest"]
    # A taken task's lock is when it was taken plus the broker's retry.
    oldest_taken = taken.aggregate(oldest=Min("lock"))["oldest"]
    since = [t for t in (oldest_waiting, oldest_taken and oldest_taken - timedelta(seconds=Conf.RETRY)) if t]
    oldest_age = (now - min(since)).total_seconds() if since else None
    last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    finished = Task.objects.filter(stopped__gte=now - timedelta(seconds=stall)).count()
    return QueueState(
        waiting=waiting.count(),
        in_flight=taken.count(),
        oldest_task_seconds=round(oldest_age, 1) if oldest_age is not None else None,
        finished_recently=finished,
        last_finished_seconds_ago=round((now - last).total_seconds(), 1) if last else None,
        stall_seconds=stall,
        stalled=oldest_age is not None and oldest_age > stall and finished == 0,
    )


def workers_reported() -> dict[str, Any]:
    """What the watchdog last published about its cluster's workers: {"at": iso time, "workers": [{pid, rss_bytes,
    busy}]} (empty when no watchdog runs)."""
    return cache.get(WORKERS_KEY) or {}


def worker_restarts() -> int:
    return int(cache.get(RESTARTS_KEY) or 0)
