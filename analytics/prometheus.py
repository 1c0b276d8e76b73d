"""The business's numbers for Prometheus (GET /metrics), read from the database at scrape time, so every process
reports the same totals: leads ingested by source, classification latency, LLM calls, tokens and cost, messages by
channel and status, webhook rejections. (The queue's depth and oldest task's age come from bizpilot.metrics.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import connection
from django.db.models import Count, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from bizpilot.counters import counter_values
from intelligence.models import ModelCall
from leads.models import Lead
from messaging.models import Message

logger = logging.getLogger(__name__)
# Seconds: the local classifier takes tens of milliseconds; an arbitrating LLM call seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class BusinessCollector(Collector):
    def describe(self) -> list[Metric]:
        return []  # nothing to read until scraped (registering must not touch the database)

    def collect(self) -> Iterator[Metric]:
        try:
            metrics = list(self._read())
        except Exception as exc:  # the database is away: /healthz says so; the scrape still answers
            logger.warning("business metrics unavailable: %s", exc)
            return
        yield from metrics

    def _read(self) -> Iterator[Metric]:
        leads = CounterMetricFamily("bizpilot_leads_ingested", "Leads received, by source", labels=["source"])
        for source, n in Lead.objects.values_list("source").annotate(n=Count("id")).order_by("source"):
            leads.add_metric([source], n)
        yield leads
        yield self._classification_latency()

        calls = CounterMetricFamily(
            "bizpilot_llm_calls", "LLM calls", labels=["provider", "model", "operation", "status"]
        )
        tokens = CounterMetricFamily("bizpilot_llm_tokens", "LLM tokens", labels=["provider", "model", "kind"])
        cost = CounterMetricFamily("bizpilot_llm_cost_usd", "LLM spend in US dollars", labels=["provider", "model"])
        rows = (
            ModelCall.objects.exclude(provider="local")
            .values("provider", "model", "operation", "status")
            .annotate(
                n=Count("id"),
                input=Sum("input_tokens"),
                output=Sum("output_tokens"),
                cache_read=Sum("cache_read_tokens"),
                cache_write=Sum("cache_creation_tokens"),
                usd=Sum("cost_usd"),
            )
            .order_by("provider", "model", "operation", "status")
        )
        totals: dict[tuple[str, str], dict[str, float]] = {}
        for row in rows:
            calls.add_metric([row["provider"], row["model"], row["operation"], row["status"]], row["n"])
            total = totals.setdefault((row["provider"], row["model"]), {})
            for kind in ("input", "output", "cache_read", "cache_write", "usd"):
                total[kind] = total.get(kind, 0) + float(row[kind] or 0)
        for (provider, model), total in sorted(totals.items()):
            for kind in ("input", "output", "cache_read", "cache_write"):
                tokens.add_metric([provider, model, kind], total[kind])
            cost.add_metric([provider, model], total["usd"])
        yield calls
        yield tokens
        yield cost

        messages = GaugeMetricFamily("bizpilot_messages", "Replies by channel and status", labels=["channel", "status"])
        by_state = (
            Message.objects.values_list("channel", "status").annotate(n=Count("id")).order_by("channel", "status")
        )
        for channel, status, n in by_state:
            messages.add_metric([channel, status], n)
        yield messages

        rejected = CounterMetricFamily(
            "bizpilot_webhook_rejections", "Webhook requests refused: a missing or wrong signature", labels=["source"]
        )
        for labels, value in sorted(counter_values("bizpilot_webhook_rejections"), key=lambda item: str(item[0])):
            rejected.add_metric([labels.get("source", "")], value)
        yield rejected

    def _classification_latency(self) -> Metric:
        """The local classifier's latency (embedding, retrieval, models), every lead ever classified."""
        buckets = ", ".join(f"count(*) FILTER (WHERE latency_ms <= {le * 1000:g})" for le in LATENCY_BUCKETS)
        sql = f"""
            SELECT {buckets}, count(*), coalesce(sum(latency_ms), 0) / 1000.0
            FROM {ModelCall._meta.db_table} WHERE provider = 'local' AND operation = 'classify' AND status = 'ok'
        """  # noqa: S608 (our own table name, numbers of our own)
        with connection.cursor() as cursor:
            cursor.execute(sql)
            *counts, total, seconds = cursor.fetchone()
        return HistogramMetricFamily(
            "bizpilot_classification_latency_seconds",
            "Time to classify a lead with the local models",
            buckets=[*((f"{le:g}", n) for le, n in zip(LATENCY_BUCKETS, counts, strict=True)), ("+Inf", total)],
            sum_value=float(seconds),
        )


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(BusinessCollector())
        _registered = True
