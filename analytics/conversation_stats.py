"""The conversation's numbers on the messaging page and in the API: how many contacted leads answered (the reply
rate), what their answers were (the reply kinds, objections broken out: which come up and how often; auto-replies
counted apart, never as replies), and how fast we answered them: from the lead's message (the first of several
written in a row) to our answer's draft and to its sending, p50 and p95."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from analytics.periods import Period
from bizpilot.stats import percentile, rate
from intelligence.models import ReplyClassification
from intelligence.replies import OBJECTIONS, ReplyKind
from leads.models import InboundMessage, Lead
from messaging.models import Message


def conversation_stats(period: Period) -> dict[str, Any]:
    leads = Lead.objects.filter(contacted_at__gte=period.start, contacted_at__lt=period.end).aggregate(
        contacted=Count("id"), replied=Count("id", filter=Q(replied_at__isnull=False))
    )
    contacted, replied = leads["contacted"], leads["replied"]
    readings = ReplyClassification.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    by_kind = dict(readings.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    replies = sum(n for kind, n in by_kind.items() if kind != ReplyKind.AUTO_REPLY)
    kinds = [
        {
            "kind": kind.value,
            "label": kind.label,
            "count": by_kind.get(kind.value, 0),
            "share": rate(by_kind.get(kind.value, 0), replies),
        }
        for kind in ReplyKind
        if kind != ReplyKind.AUTO_REPLY
    ]
    answers = list(
        Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .exclude(reply_kind="")
        .exclude(answers=[])
        .values("answers", "created_at", "sent_at")
    )
    first_ids = {min(a["answers"]) for a in answers}
    received = (
        dict(InboundMessage.objects.filter(pk__in=first_ids).values_list("pk", "received_at")) if first_ids else {}
    )
    to_draft, to_send = [], []
    for answer in answers:
        start = received.get(min(answer["answers"]))
        if start is None:
            continue
        to_draft.append((answer["created_at"] - start).total_seconds())
        if answer["sent_at"] is not None:
            to_send.append((answer["sent_at"] - start).total_seconds() / 60)
    return {
        "contacted": contacted,
        "replied": replied,
        "reply_rate": rate(replied, contacted),
        "replies": replies,
        "auto_replies": by_kind.get(ReplyKind.AUTO_REPLY, 0),
        "kinds": kinds,
        "objections": [k for k in kinds if k["kind"] in OBJECTIONS],
        "answered": len(to_send),
        "reply_to_draft_seconds_p50": _p(to_draft, 50),
        "reply_to_draft_seconds_p95": _p(to_draft, 95),
        "reply_to_answer_minutes_p50": _p(to_send, 50),
        "reply_to_answer_minutes_p95": _p(to_send, 95),
    }


def _p(values: list[float], q: float) -> float | None:
    return round(percentile(values, q), 2) if values else None
