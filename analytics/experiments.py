"""Experiment results and the holdout's lift, honestly: rates with the confidence interval of each difference
(bizpilot.stats.proportion_difference), significant only when the interval leaves out zero. About the leads
received in the period, by how their replies were made; replies and conversions from the leads' milestones."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.db import connection
from django.db.models import Q

from analytics.periods import Period
from bizpilot.stats import proportion_difference, rate
from leads.models import Lead
from messaging.models import Experiment, Message

LEAD, MESSAGE = Lead._meta.db_table, Message._meta.db_table


def _versus(a: dict[str, int], b: dict[str, int], what: str) -> dict[str, Any]:
    return asdict(proportion_difference(a[what], a["leads"], b[what], b["leads"]))


def _outcome(leads: int, replied: int, converted: int, meeting_booked: int = 0) -> dict[str, Any]:
    """A group's outcomes. A booked meeting is a conversion event of its own (the step before a sale)."""
    return {
        "leads": leads,
        "replied": replied,
        "converted": converted,
        "meeting_booked": meeting_booked,
        "meeting_rate": rate(meeting_booked, leads),
        "reply_rate": rate(replied, leads),
        "conversion_rate": rate(converted, leads),
    }


def holdout_lift(groups: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Conversion (and reply) of the leads answered from AI drafts against the holdout's (a person wrote from
    nothing), from the overview's split of the drafted leads: the lift is the difference, with its 95% interval."""
    ai = _outcome(**groups["ai"])
    holdout = _outcome(**groups["holdout"])
    return {
        "ai": ai,
        "holdout": holdout,
        "conversion_lift": _versus(ai, holdout, "converted"),
        "meeting_lift": _versus(ai, holdout, "meeting_booked"),
        "reply_lift": _versus(ai, holdout, "replied"),
    }


def experiment_results(period: Period) -> list[dict[str, Any]]:
    """Every experiment that assigned leads received in the period (and the running one): per variant the exposure
    (leads), reply and conversion rates, and each variant's difference from the first (the control)."""
    sql = f"""
        SELECT m.experiment_variant_id, count(DISTINCT l.id),
               count(DISTINCT l.id) FILTER (WHERE l.replied_at IS NOT NULL),
               count(DISTINCT l.id) FILTER (WHERE l.converted_at IS NOT NULL),
               count(DISTINCT l.id) FILTER (WHERE l.meeting_booked_at IS NOT NULL)
        FROM {MESSAGE} m JOIN {LEAD} l ON l.id = m.lead_id
        WHERE m.experiment_variant_id IS NOT NULL AND l.created_at >= %s AND l.created_at < %s
        GROUP BY 1
    """  # noqa: S608 (our own table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end])
        exposure = {variant: _outcome(*counts) for variant, *counts in cursor.fetchall()}
    experiments = Experiment.objects.filter(Q(status=Experiment.Status.RUNNING) | Q(variants__in=list(exposure)))
    results = []
    for experiment in experiments.distinct().prefetch_related("variants").select_related("winner"):
        variants: list[dict[str, Any]] = []
        control: dict[str, Any] | None = None
        for variant in sorted(experiment.variants.all(), key=lambda v: v.pk):
            outcome = exposure.get(variant.pk, _outcome(0, 0, 0))
            row: dict[str, Any] = {
                "id": variant.pk,
                "name": variant.name,
                "weight": variant.weight,
                **outcome,
                "is_control": control is None,
            }
            if control is None:
                control = outcome
            else:
                row["conversion_vs_control"] = _versus(outcome, control, "converted")
                row["meeting_vs_control"] = _versus(outcome, control, "meeting_booked")
                row["reply_vs_control"] = _versus(outcome, control, "replied")
            variants.append(row)
        results.append(
            {
                "id": experiment.pk,
                "name": experiment.name,
                "kind": experiment.kind,
                "status": experiment.status,
                "started_at": experiment.started_at,
                "stopped_at": experiment.stopped_at,
                "winner": experiment.winner.name if experiment.winner else None,
                "variants": variants,
            }
        )
    return results
