"""Metrics queries shared by the analytics pages and the metrics API (read-only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from statistics import median
from typing import Any

from django.db.models import Avg, Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from bizpilot.actors import AUTO_SEND
from bizpilot.stats import percentile
from intelligence.models import Classification, ModelCall
from leads.models import InboundMessage, Lead
from messaging.models import DeliveryEvent, Message


@dataclass
class DashboardMetrics:
    window_days: int
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def step_performance(*, since: Any) -> list[dict[str, Any]]:
    """Reply and conversion rate by step: the first reply (step 0) and each follow-up of each sequence. A reply
    counts for the last message we sent before it; a conversion for the last message we sent to a converted lead.
    Messages sent since `since`."""
    sent = list(
        Message.objects.filter(sent_at__gte=since)
        .select_related("lead", "sequence_step__lead_sequence__sequence")
        .order_by("lead_id", "sent_at", "id")
    )
    inbound: dict[int, list[Any]] = {}
    for lead_id, received_at in InboundMessage.objects.filter(lead_id__in={m.lead_id for m in sent}).values_list(
        "lead_id", "received_at"
    ):
        inbound.setdefault(lead_id, []).append(received_at)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for i, message in enumerate(sent):
        following = sent[i + 1] if i + 1 < len(sent) and sent[i + 1].lead_id == message.lead_id else None
        until = following.sent_at if following else None
        replied = any(message.sent_at < at and (until is None or at < until) for at in inbound.get(message.lead_id, []))
        converted = following is None and message.lead.state == Lead.State.CONVERTED
        step = getattr(message, "sequence_step", None)
        key = (step.lead_sequence.sequence.name, step.position) if step else ("first reply", 0)
        row = rows.setdefault(key, {"sequence": key[0], "step": key[1], "sent": 0, "replied": 0, "converted": 0})
        row["sent"] += 1
        row["replied"] += replied
        row["converted"] += converted
    for row in rows.values():
        row["reply_rate"] = round(row["replied"] / row["sent"], 4)
        row["conversion_rate"] = round(row["converted"] / row["sent"], 4)
    return sorted(rows.values(), key=lambda r: (r["sequence"] != "first reply", r["sequence"], r["step"]))


def dashboard_metrics(*, days: int = 30) -> DashboardMetrics:
    since = timezone.now() - timedelta(days=days)
    leads = Lead.objects.filter(created_at__gte=since)
    messages = Message.objects.filter(created_at__gte=since)

    def counts(queryset: QuerySet[Any], field: str) -> dict[str, int]:
        return {row[field] or "unclassified": row["n"] for row in queryset.values(field).annotate(n=Count("id"))}

    reviewed = messages.filter(status__in=["approved", "sending", "sent", "delivered"])
    reviewed_total = reviewed.count()
    edited = reviewed.filter(~Q(body=F("original_body")) | ~Q(subject=F("original_subject"))).count()

    firsts = leads.annotate(first_draft=Min("messages__created_at"), first_sent=Min("messages__sent_at")).values(
        "created_at", "first_draft", "first_sent"
    )
    to_draft = [(r["first_draft"] - r["created_at"]).total_seconds() / 60 for r in firsts if r["first_draft"]]
    to_send = [(r["first_sent"] - r["created_at"]).total_seconds() / 60 for r in firsts if r["first_sent"]]
    calls = ModelCall.objects.filter(created_at__gte=since)
    cost = calls.aggregate(total=Sum("cost_usd"))["total"] or 0
    # What each LLM-written draft cost, counting its failed attempts too, and the spend per provider and model.
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

    # Engagement counts people only: machine opens and scanner clicks are recorded but flagged and left out here.
    sent_emails = messages.filter(channel="email", sent_at__isnull=False)
    emails_sent = sent_emails.count()
    human = DeliveryEvent.objects.filter(message__in=sent_emails, is_machine=False)
    opened = human.filter(event_type__in=["opened", "clicked"]).values("message").distinct().count()
    clicked = human.filter(event_type="clicked").values("message").distinct().count()
    machine_events = DeliveryEvent.objects.filter(message__in=messages, is_machine=True).count()

    return DashboardMetrics(
        window_days=days,
        leads_total=leads.count(),
        leads_by_intent=counts(leads, "intent"),
        leads_by_state=counts(leads, "state"),
        messages_by_status=counts(messages, "status"),
        drafts_by_generator=counts(messages, "generated_by"),
        edit_rate=round(edited / reviewed_total, 4) if reviewed_total else None,
        mean_edit_size=round(float(reviewed.aggregate(m=Avg("edit_size"))["m"]), 1) if reviewed_total else None,
        median_minutes_to_draft=round(median(to_draft), 2) if to_draft else None,
        median_minutes_to_send=round(median(to_send), 2) if to_send else None,
        llm_cost_usd=float(cost),
        llm_cost_per_draft_usd=round(float(drafts["total"]) / drafts["n"], 6) if drafts["n"] else None,
        llm_usage=[{**row, "cost_usd": float(row["cost_usd"])} for row in usage],
        emails_sent=emails_sent,
        open_rate=round(opened / emails_sent, 4) if emails_sent else None,
        click_rate=round(clicked / emails_sent, 4) if emails_sent else None,
        machine_events=machine_events,
        by_step=step_performance(since=since),
    )


CONFIDENCE_BANDS = [("low (< 0.5)", 0.0, 0.5), ("medium (0.5 to 0.85)", 0.5, 0.85), ("high (>= 0.85)", 0.85, 1.01)]


@dataclass
class ModelPerformance:
    window_days: int
    classified_leads: int
    corrected_leads: int
    agreement: float | None
    by_confidence: list[dict[str, Any]]
    corrections: dict[str, int]
    classify_p50_ms: float | None
    classify_p95_ms: float | None
    drafts: list[dict[str, Any]]
    auto_send_decided: int
    auto_sent: int
    llm_calls: int
    llm_errors: int
    llm_p50_ms: float | None
    llm_p95_ms: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: list[float], q: float) -> float | None:
    return round(percentile(values, q * 100), 1) if values else None


def model_performance(*, days: int = 30) -> ModelPerformance:
    """How well the models did, judged by what operators did with their output: intents they corrected (overall
    and per confidence band, a calibration check), drafts approved, edited or rejected per generator, auto-sends,
    and LLM reliability and latency."""
    since = timezone.now() - timedelta(days=days)
    first: dict[int, dict[str, Any]] = {}
    pipeline = (
        Classification.objects.filter(created_at__gte=since)
        .exclude(method="operator")
        .order_by("lead_id", "created_at", "id")
        .values("lead_id", "intent", "confidence", "latency_ms")
    )
    for row in pipeline.iterator(chunk_size=2000):
        first.setdefault(row["lead_id"], dict(row))
    final: dict[int, str] = {}
    operator = Classification.objects.filter(created_at__gte=since, method="operator").order_by("created_at", "id")
    for correction in operator.values("lead_id", "intent"):
        if correction["lead_id"] in first:
            final[correction["lead_id"]] = correction["intent"]  # the operator's last word
    wrong = {lead for lead, intent in final.items() if intent != first[lead]["intent"]}
    corrections: dict[str, int] = {}
    for lead in wrong:
        key = f"{first[lead]['intent']} -> {final[lead]}"
        corrections[key] = corrections.get(key, 0) + 1
    bands = []
    for label, low, high in CONFIDENCE_BANDS:
        in_band = [lead for lead, row in first.items() if low <= row["confidence"] < high]
        corrected = sum(1 for lead in in_band if lead in wrong)
        bands.append(
            {
                "band": label,
                "leads": len(in_band),
                "corrected": corrected,
                "agreement": round(1 - corrected / len(in_band), 4) if in_band else None,
            }
        )

    messages = Message.objects.filter(created_at__gte=since)
    drafts = []
    for generator in ("llm", "fallback"):
        mine = messages.filter(generated_by=generator)
        reviewed = mine.exclude(status__in=["pending_review", "suppressed"]).exclude(approved_by=AUTO_SEND)
        approved = reviewed.filter(status__in=["approved", "sending", "sent", "delivered"])
        total, approved_n = mine.count(), approved.count()
        edited = approved.filter(edit_size__gt=0)
        drafts.append(
            {
                "generated_by": generator,
                "drafts": total,
                "approved": approved_n,
                "rejected": reviewed.filter(status="rejected").count(),
                "edit_rate": round(edited.count() / approved_n, 4) if approved_n else None,
                "mean_edit_size": round(float(approved.aggregate(m=Avg("edit_size"))["m"]), 1) if approved_n else None,
            }
        )
    llm = ModelCall.objects.filter(created_at__gte=since).exclude(provider="local")
    latencies = list(llm.filter(status="ok").values_list("latency_ms", flat=True))
    classify_latencies = [row["latency_ms"] for row in first.values()]
    return ModelPerformance(
        window_days=days,
        classified_leads=len(first),
        corrected_leads=len(wrong),
        agreement=round(1 - len(wrong) / len(first), 4) if first else None,
        by_confidence=bands,
        corrections=corrections,
        classify_p50_ms=_percentile(classify_latencies, 0.5),
        classify_p95_ms=_percentile(classify_latencies, 0.95),
        drafts=drafts,
        auto_send_decided=messages.exclude(auto_send_decision="").count(),
        auto_sent=messages.filter(approved_by=AUTO_SEND).count(),
        llm_calls=llm.count(),
        llm_errors=llm.filter(status="error").count(),
        llm_p50_ms=_percentile(latencies, 0.5),
        llm_p95_ms=_percentile(latencies, 0.95),
    )
