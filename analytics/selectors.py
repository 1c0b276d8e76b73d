"""The numbers behind every analytics page and metrics endpoint (read-only). The pages and the JSON API call the
same functions, so the two can never disagree: `dashboard_metrics` (overview, messaging, lift and experiments;
`GET /api/dashboard/metrics/`) and `model_performance` (`GET /api/analytics/model-performance/`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from analytics.experiments import experiment_results, holdout_lift
from analytics.messaging_stats import messaging_stats, review_numbers
from analytics.overview import cohort_numbers, overview
from analytics.periods import Period, business_zone
from bizpilot.actors import AUTO_SEND
from bizpilot.stats import rate
from intelligence.models import Classification, ModelCall
from messaging.models import DeliveryEvent, Message


def change(current: float | None, previous: float | None) -> dict[str, float | None]:
    """A number beside the same number of the period before: the difference and the relative change."""
    if current is None or previous is None:
        return {"current": current, "previous": previous, "difference": None, "relative": None}
    return {
        "current": current,
        "previous": previous,
        "difference": round(current - previous, 4),
        "relative": round((current - previous) / previous, 4) if previous else None,
    }


@dataclass
class DashboardMetrics:
    window_days: int
    period: dict[str, Any]
    leads_total: int
    leads_by_intent: dict[str, int]
    leads_by_state: dict[str, int]
    messages_by_status: dict[str, int]
    drafts_by_generator: dict[str, int]
    edit_rate: float | None
    mean_edit_size: float | None
    median_minutes_to_draft: float | None
    median_minutes_to_send: float | None
    llm_cost_usd: float
    llm_cost_per_draft_usd: float | None
    llm_usage: list[dict[str, Any]]
    emails_sent: int
    open_rate: float | None
    click_rate: float | None
    machine_events: int
    by_step: list[dict[str, Any]]
    overview: dict[str, Any]
    messaging: dict[str, Any]
    holdout: dict[str, Any]
    experiments: list[dict[str, Any]]
    comparison: dict[str, dict[str, float | None]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def llm_costs(period: Period) -> dict[str, Any]:
    """LLM spend: in total, per draft (failed attempts included) and per provider, model and operation."""
    calls = ModelCall.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    cost = calls.aggregate(total=Sum("cost_usd"))["total"] or 0
    drafts = calls.filter(operation="draft").aggregate(total=Sum("cost_usd"), n=Count("id", filter=Q(status="ok")))
    usage = (
        calls.exclude(provider="local")
        .values("provider", "model", "operation")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(status="error")),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cache_read_tokens=Sum("cache_read_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("provider", "model", "operation")
    )
    return {
        "total": float(cost),
        "per_draft": round(float(drafts["total"]) / drafts["n"], 6) if drafts["n"] else None,
        "usage": [{**row, "cost_usd": float(row["cost_usd"])} for row in usage],
    }


def headline(period: Period) -> dict[str, float | None]:
    """The numbers a period is compared on (two cheap queries: the leads' milestones and the review counts)."""
    return headline_from(cohort_numbers(period), review_numbers(period))


def headline_of(view: dict[str, Any], stats: dict[str, Any]) -> dict[str, float | None]:
    """The same numbers, from an overview and messaging stats already computed."""
    stages = {stage["stage"]: stage["leads"] for stage in view["funnel"]}
    leads = {**stages, "classified": view["classified"], **view}
    return headline_from(leads, stats)


def headline_from(leads: dict[str, Any], reviews: dict[str, Any]) -> dict[str, float | None]:
    return {
        "leads": leads["received"],
        "coverage": rate(leads["classified"], leads["received"]),
        "response_minutes_median": leads["response_minutes_median"],
        "response_minutes_p95": leads["response_minutes_p95"],
        "contacted_rate": rate(leads["contacted"], leads["received"]),
        "replied_rate": rate(leads["replied"], leads["received"]),
        "conversion_rate": rate(leads["converted"], leads["received"]),
        "approval_rate": reviews["approval_rate"],
        "edit_rate": reviews["edit_rate"],
        "rejection_rate": reviews["rejection_rate"],
        "auto_send_share": reviews["auto_send_share"],
    }


def compared(period: Period, now_numbers: dict[str, float | None]) -> dict[str, dict[str, float | None]]:
    """Each headline number beside the same number of the period before."""
    then_numbers = headline(period.previous())
    return {key: change(now_numbers[key], then_numbers[key]) for key in now_numbers}


def machine_events(period: Period) -> int:
    """Machine opens and scanner clicks recorded on the messages sent in the period (kept, never counted)."""
    return DeliveryEvent.objects.filter(
        message__sent_at__gte=period.start, message__sent_at__lt=period.end, is_machine=True
    ).count()


def dashboard_metrics(*, period: Period, compare: bool = True) -> DashboardMetrics:
    view = overview(period).as_dict()
    stats = messaging_stats(period).as_dict()
    comparison = compared(period, headline_of(view, stats)) if compare else {}
    messages = Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    by_status: dict[str, int] = {}
    by_generator: dict[str, int] = {}
    for row in messages.values("status", "generated_by").annotate(n=Count("id")):
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        by_generator[row["generated_by"]] = by_generator.get(row["generated_by"], 0) + row["n"]
    email = next((row for row in stats["channels"] if row["channel"] == "email"), None)
    costs = llm_costs(period)
    return DashboardMetrics(
        window_days=period.days,
        period=period.as_dict(),
        leads_total=view["leads"],
        leads_by_intent=view["by_intent"],
        leads_by_state=view["by_state"],
        messages_by_status=by_status,
        drafts_by_generator=by_generator,
        edit_rate=stats["edit_rate"],
        mean_edit_size=stats["mean_edit_size"],
        median_minutes_to_draft=view["draft_minutes_median"],
        median_minutes_to_send=view["response_minutes_median"],
        llm_cost_usd=costs["total"],
        llm_cost_per_draft_usd=costs["per_draft"],
        llm_usage=costs["usage"],
        emails_sent=email["sent"] if email else 0,
        open_rate=email["opened_rate"] if email else None,
        click_rate=email["clicked_rate"] if email else None,
        machine_events=machine_events(period),
        by_step=stats["by_step"],
        overview=view,
        messaging=stats,
        holdout=holdout_lift(view["groups"]),
        experiments=experiment_results(period),
        comparison=comparison,
    )


CONFIDENCE_BANDS = [("low (< 0.5)", 0.0, 0.5), ("medium (0.5 to 0.85)", 0.5, 0.85), ("high (>= 0.85)", 0.85, 1.01)]


@dataclass
class ModelPerformance:
    window_days: int
    period: dict[str, Any]
    classified_leads: int
    reviewed_leads: int  # leads whose intent an operator set (confirmed or changed)
    corrected_leads: int
    agreement: float | None  # None until an operator has reviewed an intent: "no corrections yet"
    by_confidence: list[dict[str, Any]]
    corrections: dict[str, int]
    confidence_histogram: list[dict[str, Any]]
    classify_p50_ms: float | None
    classify_p95_ms: float | None
    latency_by_operation: list[dict[str, Any]]
    drafts: list[dict[str, Any]]
    llm_share: float | None  # drafts written by the LLM, of all drafts
    override_rate: float | None  # drafts a person edited or rejected, of those a person reviewed
    intent_correction_rate: float | None  # corrected leads, of classified leads
    auto_send_decided: int
    auto_sent: int
    llm_calls: int
    llm_errors: int
    llm_p50_ms: float | None
    llm_p95_ms: float | None
    tokens_per_draft: float | None
    cost_per_draft_usd: float | None
    cost_per_day: list[dict[str, Any]]
    llm_cost_usd: float
    llm_usage: list[dict[str, Any]]
    comparison: dict[str, dict[str, float | None]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _judged_intents(period: Period) -> dict[str, Any]:
    """Per classified lead: the pipeline's first intent and confidence, and the operator's last word (if any). In
    SQL (DISTINCT ON), not in Python: a year of leads is read in one pass."""
    table = Classification._meta.db_table
    sql = f"""
        WITH firsts AS (
            SELECT DISTINCT ON (lead_id) lead_id, intent, confidence
            FROM {table} WHERE created_at >= %s AND created_at < %s AND method <> 'operator'
            ORDER BY lead_id, created_at, id),
        finals AS (
            SELECT DISTINCT ON (lead_id) lead_id, intent
            FROM {table} WHERE created_at >= %s AND created_at < %s AND method = 'operator'
            ORDER BY lead_id, created_at DESC, id DESC)
        SELECT f.intent, o.intent, width_bucket(least(f.confidence, 0.9999), 0, 1, 10) AS bucket,
               count(*),
               count(*) FILTER (WHERE f.confidence < 0.5),
               count(*) FILTER (WHERE f.confidence >= 0.5 AND f.confidence < 0.85),
               count(*) FILTER (WHERE f.confidence >= 0.85)
        FROM firsts f LEFT JOIN finals o ON o.lead_id = f.lead_id
        GROUP BY 1, 2, 3
    """  # noqa: S608 (our own table name)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end, period.start, period.end])
        rows = cursor.fetchall()
    classified = reviewed = corrected = 0
    corrections: dict[str, int] = {}
    histogram: list[dict[str, Any]] = [
        {"bucket": f"{b / 10:.1f}-{(b + 1) / 10:.1f}", "leads": 0, "corrected": 0} for b in range(10)
    ]
    bands: list[dict[str, Any]] = [{"band": label, "leads": 0, "corrected": 0} for label, _, _ in CONFIDENCE_BANDS]
    for first, final, bucket, n, low, medium, high in rows:
        wrong = final is not None and final != first
        classified += n
        reviewed += n if final is not None else 0
        histogram[min(max(bucket, 1), 10) - 1]["leads"] += n
        for band, count in zip(bands, (low, medium, high), strict=True):
            band["leads"] += count
            band["corrected"] += count if wrong else 0
        if wrong:
            corrected += n
            histogram[min(max(bucket, 1), 10) - 1]["corrected"] += n
            corrections[f"{first} -> {final}"] = corrections.get(f"{first} -> {final}", 0) + n
    for band in bands:
        band["agreement"] = round(1 - band["corrected"] / band["leads"], 4) if band["leads"] and reviewed else None
    return {
        "classified": classified,
        "reviewed": reviewed,
        "corrected": corrected,
        "corrections": corrections,
        "histogram": histogram,
        "bands": bands,
    }


def latency_by_operation(period: Period) -> list[dict[str, Any]]:
    """p50 and p95 latency of every model operation (the local classifier, LLM drafts and arbitration, embedding)."""
    sql = f"""
        SELECT provider, operation, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
        FROM {ModelCall._meta.db_table}
        WHERE created_at >= %s AND created_at < %s AND status = 'ok'
        GROUP BY provider, operation ORDER BY provider, operation
    """  # noqa: S608 (our own table name)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end])
        return [
            {"provider": p, "operation": o, "calls": n, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
            for p, o, n, p50, p95 in cursor.fetchall()
        ]


def llm_latency(period: Period) -> tuple[float | None, float | None]:
    """p50 and p95 of every successful LLM call (all operations together)."""
    sql = f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
        FROM {ModelCall._meta.db_table}
        WHERE created_at >= %s AND created_at < %s AND status = 'ok' AND provider <> 'local'
    """  # noqa: S608 (our own table name)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end])
        p50, p95 = cursor.fetchone()
    return (round(p50, 1) if p50 is not None else None, round(p95, 1) if p95 is not None else None)


def _drafts_by_generator(period: Period) -> list[dict[str, Any]]:
    messages = Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    approved = Q(status__in=["approved", "sending", "sent", "delivered"]) & ~Q(approved_by=AUTO_SEND)
    rows = {
        row["generated_by"]: row
        for row in messages.filter(generated_by__in=["llm", "fallback"])
        .values("generated_by")
        .annotate(
            drafts=Count("id"),
            approved=Count("id", filter=approved),
            rejected=Count("id", filter=Q(status="rejected")),
            edited=Count("id", filter=approved & Q(edit_size__gt=0)),
            edit_total=Sum("edit_size", filter=approved),
        )
    }
    result = []
    for generator in ("llm", "fallback"):
        row = rows.get(generator, {"drafts": 0, "approved": 0, "rejected": 0, "edited": 0, "edit_total": 0})
        result.append(
            {
                "generated_by": generator,
                "drafts": row["drafts"],
                "approved": row["approved"],
                "rejected": row["rejected"],
                "edited": row["edited"],
                "edit_rate": rate(row["edited"], row["approved"]),
                "mean_edit_size": round((row["edit_total"] or 0) / row["approved"], 1) if row["approved"] else None,
            }
        )
    return result


def _model_headline(period: Period) -> dict[str, Any]:
    judged = _judged_intents(period)
    drafts = _drafts_by_generator(period)
    reviewed = sum(d["approved"] + d["rejected"] for d in drafts)
    overridden = sum(d["rejected"] + d["edited"] for d in drafts)
    written = sum(d["drafts"] for d in drafts)
    return {
        "judged": judged,
        "drafts": drafts,
        "numbers": {
            "agreement": round(1 - judged["corrected"] / judged["classified"], 4)
            if judged["classified"] and judged["reviewed"]
            else None,
            "override_rate": rate(overridden, reviewed),
            "intent_correction_rate": rate(judged["corrected"], judged["classified"]),
            "llm_share": rate(next(d["drafts"] for d in drafts if d["generated_by"] == "llm"), written),
        },
    }


def model_performance(*, period: Period, compare: bool = True) -> ModelPerformance:
    """How well the models did, judged by what operators did with their output: intents they corrected (overall
    and per confidence band, a calibration check), drafts approved, edited or rejected per generator, auto-sends,
    latency per operation, and LLM reliability, tokens and cost."""
    current = _model_headline(period)
    judged, numbers = current["judged"], current["numbers"]
    comparison: dict[str, dict[str, float | None]] = {}
    if compare:
        before = _model_headline(period.previous())["numbers"]
        comparison = {key: change(numbers[key], before[key]) for key in numbers}
    latencies = latency_by_operation(period)
    classify = next((r for r in latencies if (r["provider"], r["operation"]) == ("local", "classify")), None)
    calls = ModelCall.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    llm = calls.exclude(provider="local")
    llm_p50, llm_p95 = llm_latency(period)
    llm_counts = llm.aggregate(n=Count("id"), errors=Count("id", filter=Q(status="error")))
    drafts_llm = calls.filter(operation="draft").aggregate(
        tokens=Sum("input_tokens") + Sum("output_tokens"), cost=Sum("cost_usd"), ok=Count("id", filter=Q(status="ok"))
    )
    per_day = (
        llm.annotate(day=TruncDate("created_at", tzinfo=business_zone()))
        .values("day")
        .annotate(cost=Sum("cost_usd"), tokens=Sum("input_tokens") + Sum("output_tokens"), calls=Count("id"))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in per_day}
    messages = Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    costs = llm_costs(period)
    return ModelPerformance(
        window_days=period.days,
        period=period.as_dict(),
        classified_leads=judged["classified"],
        reviewed_leads=judged["reviewed"],
        corrected_leads=judged["corrected"],
        agreement=numbers["agreement"],
        by_confidence=judged["bands"],
        corrections=judged["corrections"],
        confidence_histogram=judged["histogram"],
        classify_p50_ms=classify["p50_ms"] if classify else None,
        classify_p95_ms=classify["p95_ms"] if classify else None,
        latency_by_operation=latencies,
        drafts=current["drafts"],
        llm_share=numbers["llm_share"],
        override_rate=numbers["override_rate"],
        intent_correction_rate=numbers["intent_correction_rate"],
        auto_send_decided=messages.exclude(auto_send_decision="").count(),
        auto_sent=messages.filter(approved_by=AUTO_SEND).count(),
        llm_calls=llm_counts["n"],
        llm_errors=llm_counts["errors"],
        llm_p50_ms=llm_p50,
        llm_p95_ms=llm_p95,
        tokens_per_draft=round(drafts_llm["tokens"] / drafts_llm["ok"], 1) if drafts_llm["ok"] else None,
        cost_per_draft_usd=round(float(drafts_llm["cost"]) / drafts_llm["ok"], 6) if drafts_llm["ok"] else None,
        cost_per_day=[
            {
                "day": day.isoformat(),
                "cost_usd": float(by_day[day]["cost"]) if day in by_day else 0.0,
                "tokens": by_day[day]["tokens"] if day in by_day else 0,
                "calls": by_day[day]["calls"] if day in by_day else 0,
            }
            for day in period.day_list()
        ],
        llm_cost_usd=costs["total"],
        llm_usage=costs["usage"],
        comparison=comparison,
    )
