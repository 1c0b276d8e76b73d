"""The job queues' state as the health check, the metrics and the worker's watchdog see it (reads only).

There are two queues (settings.JOB_QUEUES): the default one and the LLM one, each served by its own cluster. With
django-q2's ORM broker each queued task is an OrmQ row whose `key` is its queue and whose `lock` is the time it may
be taken: a waiting task's lock is in the past (when it was queued), a task a cluster has taken has its lock in the
future (until the broker's `retry` hands it out again). Finished tasks (success or failure) are Task rows with a
`stopped` time and the queue they ran on (`cluster`; empty for tasks made by a schedule, which run on the default
queue). With another broker (Redis), the broker counts what waits; it cannot say how long, so the watchdog times it
(bizpilot.worker)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, Q
from django.utils import timezone

SUPERVISORS_KEY = "bizpilot:supervisors"  # the cache keys of every watchdog's report (one per run_worker and queue)
RESTARTS_KEY = "bizpilot:worker_restarts"  # how many times a watchdog restarted a cluster
REPORT_PREFIX = "bizpilot:workers:"


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


def orm_broker() -> bool:
    from django_q.conf import Conf

    return bool(Conf.ORM) and not Conf.REDIS and not Conf.DJANGO_REDIS and not Conf.BROKER_CLASS


def finished_on(queues: list[str]) -> Q:
    """Task rows that ran on `queues` (a schedule's task has no queue name: it ran on the default queue)."""
    on = Q(cluster__in=queues)
    return on | Q(cluster__isnull=True) | Q(cluster="") if settings.JOB_QUEUE in queues else on


def queue_state(queue: str | None = None, *, stall_seconds: int | None = None) -> QueueState:
    """The state of `queue` (a name in settings.JOB_QUEUES), or of all queues together.

    Stalled: a queued task (waiting, or taken by a cluster that never finished it) is older than `stall_seconds`
    (WORKER_STALL_SECONDS) and no task of that queue finished in as long. A worker busy on a long task is told apart
    by the watchdog (bizpilot.worker), which sees what each worker does."""
    from django_q.conf import Conf
    from django_q.models import OrmQ, Task

    queues = [queue] if queue else list(settings.JOB_QUEUES)
    stall = stall_seconds if stall_seconds is not None else settings.WORKER_STALL_SECONDS
    now = timezone.now()
    oldest_age: float | None = None
    if orm_broker():
        rows = OrmQ.objects.filter(key__in=queues)
        taken = rows.filter(lock__gt=now)
        waiting_rows = rows.filter(lock__lte=now)
        oldest_waiting = waiting_rows.aggregate(oldest=Min("lock"))["oldest"]
        # A taken task's lock is when it was taken plus the broker's retry.
        oldest_taken = taken.aggregate(oldest=Min("lock"))["oldest"]
        since = [t for t in (oldest_waiting, oldest_taken and oldest_taken - timedelta(seconds=Conf.RETRY)) if t]
        oldest_age = (now - min(since)).total_seconds() if since else None
        waiting, in_flight = waiting_rows.count(), taken.count()
    else:
        from django_q.brokers import get_broker

        waiting, in_flight = sum(int(get_broker(name).queue_size() or 0) for name in queues), 0
    done = Task.objects.filter(finished_on(queues))
    last: datetime | None = done.order_by("-stopped").values_list("stopped", flat=True).first()
    finished = done.filter(stopped__gte=now - timedelta(seconds=stall)).count()
    return QueueState(
        waiting=waiting,
        in_flight=in_flight,
        oldest_task_seconds=round(oldest_age, 1) if oldest_age is not None else None,
        finished_recently=finished,
        last_finished_seconds_ago=round((now - last).total_seconds(), 1) if last else None,
        stall_seconds=stall,
        stalled=oldest_age is not None and oldest_age > stall and finished == 0,
    )


def report_workers(key: str, report: dict[str, Any], *, timeout: int) -> None:
    """Publish one watchdog's view of its cluster (`key` names the run_worker and its queue)."""
    keys = cache.get(SUPERVISORS_KEY) or []
    if REPORT_PREFIX + key not in keys:
        keys = [k for k in keys if cache.get(k) is not None] + [REPORT_PREFIX + key]
        cache.set(SUPERVISORS_KEY, keys, timeout=None)
    cache.set(REPORT_PREFIX + key, report, timeout=timeout)


def workers_reported(queue: str | None = None) -> list[dict[str, Any]]:
    """What each watchdog last published about its cluster's workers, for `queue` or all: [{"queue", "host",
    "at", "workers": [{pid, rss_bytes, busy}]}] (empty when no watchdog runs)."""
    keys = cache.get(SUPERVISORS_KEY) or []
    reports = [report for report in cache.get_many(keys).values() if report]
    return [report for report in reports if queue is None or report.get("queue") == queue]


def worker_restarts() -> int:
    return int(cache.get(RESTARTS_KEY) or 0)
