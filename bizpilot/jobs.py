"""Background jobs by name. Services enqueue through here, naming the task's dotted path, so no service imports a
tasks module and tasks (which import services) never form a cycle with them."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)

DEFAULT = "default"  # sends, imports, embeddings, sweeps
LLM = "llm"  # work that waits on the LLM: its own queue and cluster (settings.LLM_QUEUE), so neither holds up the other


def queue_name(queue: str) -> str:
    """The django-q2 cluster (queue) name for one of our queues."""
    from django.conf import settings

    if queue not in (DEFAULT, LLM):
        raise ValueError(f"unknown queue {queue!r}")
    return settings.LLM_QUEUE if queue == LLM else settings.JOB_QUEUE


def enqueue(func: str, *args: object, task_name: str, group: str | None = None, queue: str = DEFAULT) -> bool:
    """Queue `func` (a dotted path to a task) with `args` on `queue` (DEFAULT or LLM); False when the queue is
    unreachable.

    Callers enqueue after their data committed, so a failure here loses nothing: it is logged loudly and a scheduled
    sweep or an operator's retry picks the object up. The request that committed the data does not fail for it."""
    try:
        _async_task(func, args, task_name=task_name, group=group, queue=queue)
    except Exception:
        logger.exception("could not enqueue %s%r", func, args)
        return False
    return True


def _async_task(func: str, args: tuple[object, ...], *, task_name: str, group: str | None, queue: str) -> None:
    from django_q.tasks import async_task

    from bizpilot.logging import JOB_CONTEXT_KWARG, job_context

    carried = {JOB_CONTEXT_KWARG: context} if (context := job_context()) else {}
    async_task(
        func,
        *args,
        task_name=task_name,
        group=group or func.rsplit(".", 1)[-1],
        cluster=queue_name(queue),
        **carried,
    )


def enqueue_on_commit(func: str, *args: object, task_name: str, group: str | None = None, queue: str = DEFAULT) -> None:
    """`enqueue` once the current transaction commits (at once outside a transaction); nothing if it rolls back.

    With the database as the broker (django-q2's ORM broker) the job's row is written now, in the caller's
    transaction: workers see it exactly when the data commits, it is rolled back with it, and the request pays one
    commit instead of two. A failure to write it then fails the transaction (nothing is half-stored). Other brokers
    (Redis) and inline jobs (JOBS_SYNC) get it after the commit."""
    from django.db import connection
    from django_q.conf import Conf

    from bizpilot.queue import orm_broker

    if connection.in_atomic_block and not Conf.SYNC and orm_broker():
        _async_task(func, args, task_name=task_name, group=group, queue=queue)
        return
    transaction.on_commit(lambda: enqueue(func, *args, task_name=task_name, group=group, queue=queue))


class _Queued:
    """An on-commit callback that only marks itself run: while it waits among the transaction's on-commit
    callbacks, `key` was queued in this transaction. Django drops it with a rolled-back savepoint or transaction, as
    it drops the job's own row; it runs when the transaction commits (or a test runs the callbacks it captured)."""

    def __init__(self, key: tuple[object, ...]) -> None:
        self.key, self.ran = key, False

    def __call__(self) -> None:
        self.ran = True


def enqueue_once_on_commit(
    func: str, *args: object, task_name: str, group: str | None = None, queue: str = DEFAULT
) -> None:
    """`enqueue_on_commit`, once per transaction for the same task and arguments: for a job that handles everything
    pending (delivering webhooks, syncing a CRM), the many changes of one transaction queue it once."""
    from django.db import connection

    key = (func, args, queue)
    if connection.in_atomic_block:
        callbacks = (entry[1] for entry in connection.run_on_commit)  # (savepoint ids, callback, robust)
        waiting = (c for c in callbacks if isinstance(c, _Queued) and not c.ran)
        if any(callback.key == key for callback in waiting):
            return
        transaction.on_commit(_Queued(key))
    enqueue_on_commit(func, *args, task_name=task_name, group=group, queue=queue)


def schedule_once(func: str, *args: object, name: str, run_at: datetime) -> None:
    """Run `func(*args)` once at `run_at` (a django-q2 schedule, written in the caller's transaction)."""
    from django_q.models import Schedule

    Schedule.objects.create(
        name=name,
        func=func,
        args=repr(args),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=run_at,
    )
