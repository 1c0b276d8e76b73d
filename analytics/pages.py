"""What each analytics page shows: the selectors' numbers (the same the JSON API returns) and the charts drawn
from them. No query of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.safestring import SafeString

from analytics.charts import horizontal_bars, line_chart, stacked_bars
from analytics.experiments import experiment_results, holdout_lift
from analytics.messaging_stats import messaging_stats, review_numbers
from analytics.overview import cohort_numbers, overview
from analytics.periods import Period
from analytics.selectors import compared, headline_from, headline_of, machine_events, model_performance
from analytics.speed import speed_to_lead
from analytics.templatetags.bp_analytics import fmt


def _percent(value: float | None) -> str:
    return fmt(value, "percent")


def _day_labels(days: list[dict[str, Any]]) -> list[str]:
    return [day["day"][5:] for day in days]  # MM-DD


def _series(days: list[dict[str, Any]], key: str) -> dict[str, Sequence[float]]:
    names = sorted({name for day in days for name in day[key]})
    return {name: [day[key].get(name, 0) for day in days] for name in names}


def funnel_chart(funnel: list[dict[str, Any]]) -> SafeString:
    rows = [
        (stage["stage"], stage["leads"], f"{stage['leads']} ({_percent(stage['rate'])} of received)")
        for stage in funnel
    ]
    return horizontal_bars(rows, title="Funnel: received, contacted, replied, meeting booked, converted")


def overview_context(period: Period) -> dict[str, Any]:
    view = overview(period).as_dict()
    metrics = {
        "overview": view,
        "comparison": compared(period, headline_of(view, review_numbers(period))),
        "holdout": holdout_lift(view["groups"]),
    }
    days = view["leads_per_day"]
    return {
        "metrics": metrics,
        "by_source_chart": stacked_bars(_day_labels(days), _series(days, "by_source"), title="Leads per day by source"),
        "by_intent_chart": stacked_bars(_day_labels(days), _series(days, "by_intent"), title="Leads per day by intent"),
        "funnel_chart": funnel_chart(view["funnel"]),
    }


def messaging_context(period: Period) -> dict[str, Any]:
    stats = messaging_stats(period).as_dict()
    leads = cohort_numbers(period)
    metrics = {
        "messaging": stats,
        "comparison": compared(period, headline_from(leads, stats)),
        "machine_events": machine_events(period),
    }
    rows = [
        ("approved", stats["approved"], f"{stats['approved']} ({_percent(stats['approval_rate'])} of reviewed)"),
        ("edited", stats["edited"], f"{stats['edited']} ({_percent(stats['edit_rate'])} of approved)"),
        ("rejected", stats["rejected"], f"{stats['rejected']} ({_percent(stats['rejection_rate'])} of reviewed)"),
        ("auto-sent", stats["auto_sent"], f"{stats['auto_sent']} ({_percent(stats['auto_send_share'])} of sent)"),
        ("waiting", stats["pending"], f"{stats['pending']} waiting for review"),
    ]
    return {"metrics": metrics, "review_chart": horizontal_bars(rows, title="What happened to the drafts")}


def model_context(period: Period) -> dict[str, Any]:
    performance = model_performance(period=period)
    histogram = performance.confidence_histogram
    days = performance.cost_per_day
    labels = [day["day"][5:] for day in days]
    return {
        "performance": performance,
        "histogram_chart": stacked_bars(
            [row["bucket"] for row in histogram],
            {
                "not corrected": [row["leads"] - row["corrected"] for row in histogram],
                "corrected": [row["corrected"] for row in histogram],
            },
            title="Leads by classifier confidence",
        ),
        "cost_chart": line_chart(
            labels, {"LLM cost": [d["cost_usd"] for d in days]}, title="LLM cost per day", unit="$"
        ),
        "tokens_chart": line_chart(labels, {"tokens": [d["tokens"] for d in days]}, title="LLM tokens per day"),
    }


def speed_context(period: Period) -> dict[str, Any]:
    speed = speed_to_lead(period).as_dict()
    hours = speed["by_hour"]
    return {
        "speed": speed,
        "hour_chart": stacked_bars(
            [f"{row['hour']:02d}" for row in hours],
            {"leads": [row["leads"] for row in hours]},
            title="Leads by hour of arrival",
        ),
    }


def experiments_context(period: Period) -> dict[str, Any]:
    groups = cohort_numbers(period)
    return {"experiments": experiment_results(period), "holdout": holdout_lift(groups)}
