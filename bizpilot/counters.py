"""Counters every process adds to (web and workers alike), kept in the database so /metrics reports one total
whichever process is scraped: webhook rejections, say. One upsert per increment."""

from __future__ import annotations

from django.db import connection

from bizpilot.models import MetricCounter


def label_text(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={str(value).replace(',', ' ')}" for key, value in sorted(labels.items()))


def counter_increment(name: str, *, by: int = 1, **labels: str) -> None:
    table = MetricCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, labels, value) VALUES (%s, %s, %s) "  # noqa: S608 (our own table name)
            f"ON CONFLICT (name, labels) DO UPDATE SET value = {table}.value + EXCLUDED.value",
            [name, label_text(labels), by],
        )


def counter_values(name: str) -> list[tuple[dict[str, str], int]]:
    """Each label set of the counter with its value."""
    rows = MetricCounter.objects.filter(name=name).values_list("labels", "value")
    return [(dict(pair.split("=", 1) for pair in labels.split(",") if pair), value) for labels, value in rows]
