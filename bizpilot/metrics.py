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
        from bizpilot.queue import queue_state, worker_restarts, workers_reported

        try:
            state = queue_state()
            reported = workers_reported()
            restarts = worker_restarts()
        except Exception as exc:  # the database is away: /healthz says so; the scrape still answers
            logger.warning("queue metrics unavailable: %s", exc)
            return
        yield GaugeMetricFamily("bizpilot_queue_waiting_tasks", "Tasks waiting for a worker", value=state.waiting)
        yield GaugeMetricFamily(
            "bizpilot_queue_in_flight_tasks", "Tasks a cluster has taken and not finished", value=state.in_flight
        )
        yield GaugeMetricFamily(
            "bizpilot_queue_oldest_task_age_seconds",
            "Age of the oldest queued task, waiting or taken and unfinished (0 when none)",
            value=state.oldest_task_seconds or 0,
        )
        yield GaugeMetricFamily(
            "bizpilot_tasks_finished_recently",
            f"Tasks finished in the last {state.stall_seconds} s (WORKER_STALL_SECONDS)",
            value=state.finished_recently,
        )
        yield GaugeMetricFamily(
            "bizpilot_queue_stalled", "1 when tasks wait and none finishes (see /healthz)", value=int(state.stalled)
        )
        yield CounterMetricFamily(
            "bizpilot_worker_restarts", "Job clusters the watchdog restarted because they froze", value=restarts
        )
        rss = GaugeMetricFamily("bizpilot_worker_rss_bytes", "Resident memory of each worker process", labels=["pid"])
        busy = GaugeMetricFamily("bizpilot_worker_busy", "1 while a worker process runs a task", labels=["pid"])
        for worker in reported.get("workers", []):
            rss.add_metric([str(worker["pid"])], worker["rss_bytes"])
            busy.add_metric([str(worker["pid"])], int(worker["busy"]))
        yield rss
        yield busy


_registered = False


def register() -> None:
    """Add the collector to the default registry once per process."""
    global _registered
    if not _registered:
        REGISTRY.register(QueueCollector())
        _registered = True
