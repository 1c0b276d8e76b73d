"""django-q2 jobs of the leads app: thin, idempotent wrappers that take ids and call one service."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def run_lead_import(import_id: int) -> str:
    from leads.services import lead_import_run

    return lead_import_run(import_id=import_id).status


def enqueue_lead_import(import_id: int) -> None:
    try:
        async_task("leads.tasks.run_lead_import", import_id, task_name=f"lead_import-{import_id}", group="lead_import")
    except Exception:
        # The upload is stored; the admin's "Run again" action queues it once the queue is reachable.
        logger.exception("could not enqueue CSV import %s", import_id)
