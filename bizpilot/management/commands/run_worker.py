"""python manage.py run_worker: the job worker (django-q2's qcluster) under the watchdog of bizpilot.worker."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from bizpilot.worker import Supervisor


class Command(BaseCommand):
    help = "Run the job worker (qcluster) and restart it when it stalls (a killed worker can freeze django-q2)."

    def handle(self, *args: Any, **options: Any) -> None:
        supervisor = Supervisor(
            command=[sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"],
            stall_seconds=settings.WORKER_STALL_SECONDS,
            check_seconds=settings.WORKER_WATCHDOG_SECONDS,
            stop_seconds=settings.WORKER_STOP_SECONDS,
        )
        supervisor.run()
