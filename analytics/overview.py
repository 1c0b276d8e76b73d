"""The overview page's numbers: leads per day by source and by intent, classification coverage, how fast leads get
an answer, and the funnel received -> contacted -> replied -> meeting booked -> converted. A cohort view: every
number is about the leads received in the period, whatever happened to them since. Read from the leads' own
milestone columns (drafted_at, contacted_at, replied_at, meeting_booked_at, converted_at), so a year of leads is one
scan with no joins."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from analytics.periods import Period, business_zone
from bizpilot.stats import rate
from leads.models import Lead
from messaging.models import Message

STAGES = ("received", "contacted", "replied", "meeting_booked", "converted")


@dataclass
class Overview:
    period: dict[str, Any]
    leads: int
    leads_per_day: list[dict[str, Any]]  # {"day", "total", "by_source": {...}, "by_intent": {...}}
    sources: list[str]
    by_intent: dict[str, int]
    by_state: dict[str, int]
    classified: int
    coverage: float | None  # share of leads classified
    response_minutes_median: float | None  # lead received -> first message sent
    response_minutes_p95: float | None
    draft_minutes_median: float | None  # lead received -> first draft
    answered: int
    groups: dict[str, dict[str, int]]  # the drafted leads: "ai" (AI drafts) and "holdout" (a person wrote)
    funnel: list[dict[str, Any]]  # {"stage", "leads", "rate" (of received), "step_rate" (of the stage before)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def leads_in(period: Period) -> QuerySet[Lead]:
    return Lead.objects.filter(created_at__gte=period.start, created_at__lt=period.end)


def cohort_numbers(period: Period) -> dict[str, Any]:
    """The leads received in the period: how many, classified, contacted, replied, booked a meeting, converted, the
    median and p95
    minutes to the first message sent (and the median to the first draft), and the drafted leads split into the
    holdout (a person wrote their reply) and the rest (AI drafts). One query."""
    groups = ", ".join(
        f"count(*) FILTER (WHERE {cond}), count(replied_at) FILTER (WHERE {cond}), "
        f"count(converted_at) FILTER (WHERE {cond}), count(meeting_booked_at) FILTER (WHERE {cond})"
        for cond in ("drafted_at IS NOT NULL AND h.lead_id IS NULL", "h.lead_id IS NOT NULL")
    )
    sql = f"""
        SELECT count(*), count(*) FILTER (WHERE intent <> ''), count(contacted_at), count(replied_at),
               count(converted_at), count(meeting_booked_at),
               percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY contacted_at - created_at),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY drafted_at - created_at),
               {groups}
        FROM {Lead._meta.db_table} l
        LEFT JOIN (SELECT DISTINCT lead_id FROM {Message._meta.db_table}
                   WHERE generated_by = %s AND created_at >= %s) h ON h.lead_id = l.id
        WHERE l.created_at >= %s AND l.created_at < %s
    """  # noqa: S608 (our own table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [Message.GeneratedBy.HOLDOUT, period.start, period.start, period.end])
        received, classified, contacted, replied, converted, meetings, response, draft, *split = cursor.fetchone()
    median, p95 = response or (None, None)

    def minutes(value: timedelta | None) -> float | None:
        return round(value.total_seconds() / 60, 1) if value is not None else None

    return {
        "received": received,
        "classified": classified,
        "contacted": contacted,
        "replied": replied,
        "converted": converted,
        "meeting_booked": meetings,
        "response_minutes_median": minutes(median),
        "response_minutes_p95": minutes(p95),
        "draft_minutes_median": minutes(draft),
        "ai": {"leads": split[0], "replied": split[1], "converted": split[2], "meeting_booked": split[3]},
        "holdout": {"leads": split[4], "replied": split[5], "converted": split[6], "meeting_booked": split[7]},
    }


def funnel(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each stage's leads, as a share of those received and of the stage before (the nearest one any lead reached:
    a business that books no meetings sees conversion against replies)."""
    stages, before = [], None
    for stage in STAGES:
        stages.append(
            {
                "stage": stage,
                "leads": counts[stage],
                "rate": rate(counts[stage], counts["received"]),
                "step_rate": rate(counts[stage], before) if before is not None else None,
            }
        )
        if counts[stage] or before is None:
            before = counts[stage]
    return stages


def overview(period: Period) -> Overview:
    per_day: dict[Any, dict[str, Any]] = {
        day: {"day": day.isoformat(), "total": 0, "by_source": {}, "by_intent": {}} for day in period.day_list()
    }
    sources: set[str] = set()
    by_intent: dict[str, int] = {}
    by_state: dict[str, int] = {}
    rows = (
        leads_in(period)
        .annotate(day=TruncDate("created_at", tzinfo=business_zone()))
        .values("day", "source", "intent", "state")
        .annotate(n=Count("id"))
    )
    for row in rows:
        intent = row["intent"] or "unclassified"
        by_intent[intent] = by_intent.get(intent, 0) + row["n"]
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        entry = per_day.get(row["day"])
        if entry is None:
            continue
        entry["total"] += row["n"]
        entry["by_source"][row["source"]] = entry["by_source"].get(row["source"], 0) + row["n"]
        entry["by_intent"][intent] = entry["by_intent"].get(intent, 0) + row["n"]
        sources.add(row["source"])
    numbers = cohort_numbers(period)
    return Overview(
        period=period.as_dict(),
        leads=numbers["received"],
        leads_per_day=list(per_day.values()),
        sources=sorted(sources),
        by_intent=by_intent,
        by_state=by_state,
        classified=numbers["classified"],
        coverage=rate(numbers["classified"], numbers["received"]),
        response_minutes_median=numbers["response_minutes_median"],
        response_minutes_p95=numbers["response_minutes_p95"],
        draft_minutes_median=numbers["draft_minutes_median"],
        answered=numbers["contacted"],
        groups={"ai": numbers["ai"], "holdout": numbers["holdout"]},
        funnel=funnel(numbers),
    )
