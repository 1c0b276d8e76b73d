"""python manage.py run_worker: the job workers (one django-q2 qcluster per queue) under the watchdog of
bizpilot.worker."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bizpilot.worker import Supervisor, supervise


class Command(BaseCommand):
    help = (
        "Run the job workers, one cluster per queue (default: every queue), and restart a cluster when it stalls "
        "(a killed worker can freeze django-q2)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            metavar="NAME",
            help=f"serve only this queue (repeatable): {', '.join(settings.JOB_QUEUES)}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        queues = options["queues"] or list(settings.JOB_QUEUES)
        unknown = sorted(set(queues) - set(settings.JOB_QUEUES))
        if unknown:
            raise CommandError(f"unknown queue {', '.join(unknown)}; the queues are {', '.join(settings.JOB_QUEUES)}")
        supervisors = [
            Supervisor(
                command=[sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"],
                queue=queue,
                stall_seconds=settings.WORKER_STALL_SECONDS,
                check_seconds=settings.WORKER_WATCHDOG_SECONDS,
                stop_seconds=settings.WORKER_STOP_SECONDS,
            )
            for queue in dict.fromkeys(queues)
        ]
        supervise(supervisors, check_seconds=settings.WORKER_WATCHDOG_SECONDS)
