"""BizPilot's own Prometheus gauges, read at scrape time (GET /metrics, beside django-prometheus's): the job queue
and the workers, as /healthz reports them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)


class QueueCollector(Collector):
    def describe(self) -> list[Metric]:
        return []  # nothing to read until scraped (registering must not touch the database)

    def collect(self) -> Iterator[Metric]:
        from django.conf import settings

        from bizpilot.queue import queue_state, worker_restarts, workers_reported

        try:
            states = {name: queue_state(name) for name in settings.JOB_QUEUES}
            reports = workers_reported()
            restarts = worker_restarts()
        except Exception as exc:  # the database is away: /healthz says so; the scrape still answers
            logger.warning("queue metrics unavailable: %s", exc)
            return
        stall = settings.WORKER_STALL_SECONDS
        gauges = [
            ("bizpilot_queue_waiting_tasks", "Tasks waiting for a worker", lambda s: s.waiting),
            ("bizpilot_queue_in_flight_tasks", "Tasks a cluster has taken and not finished", lambda s: s.in_flight),
            (
                "bizpilot_queue_oldest_task_age_seconds",
                "Age of the oldest queued task, waiting or taken and unfinished (0 when none)",
                lambda s: s.oldest_task_seconds or 0,
            ),
            (
                "bizpilot_tasks_finished_recently",
                f"Tasks finished in the last {stall} s (WORKER_STALL_SECONDS)",
                lambda s: s.finished_recently,
            ),
            ("bizpilot_queue_stalled", "1 when tasks wait and none finishes (see /healthz)", lambda s: int(s.stalled)),
        ]
        for name, documentation, value in gauges:
            gauge = GaugeMetricFamily(name, documentation, labels=["queue"])
            for queue, state in states.items():
                gauge.add_metric([queue], value(state))
            yield gauge
        yield CounterMetricFamily(
            "bizpilot_worker_restarts", "Job clusters the watchdog restarted because they froze", value=restarts
        )
        labels = ["queue", "host", "pid"]
        rss = GaugeMetricFamily("bizpilot_worker_rss_bytes", "Resident memory of each worker process", labels=labels)
        busy = GaugeMetricFamily("bizpilot_worker_busy", "1 while a worker process runs a task", labels=labels)
        for report in reports:
            for worker in report.get("workers", []):
                key = [str(report.get("queue")), str(report.get("host")), str(worker["pid"])]
                rss.add_metric(key, worker["rss_bytes"])
                busy.add_metric(key, int(worker["busy"]))
        yield rss
        yield busy


_registered = False


def register() -> None:
    """Add the collector to the default registry once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(QueueCollector())
        _registered = True
