"""The messaging page's numbers: what operators did with the drafts (approved, edited, rejected), how much went
out on its own, and per channel what happened to what was sent (delivered, opened, clicked, replied, unsubscribed),
people only: machine opens and scanner clicks are left out. Reply and conversion rate by follow-up step. A reply
counts for the last message we sent before it, a conversion for the last message sent to a converted lead."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from django.db.models import Avg, Count, Q

from analytics.conversation_stats import conversation_stats
from analytics.periods import Period
from bizpilot.actors import AUTO_SEND
from bizpilot.stats import rate
from messaging.models import LeadSequence, LeadSequenceStep, Message, Sequence

EDIT_RATE_TARGET = 0.2
SENT_STATUSES = ["approved", "sending", "sent", "delivered"]


@dataclass
class MessagingStats:
    period: dict[str, Any]
    drafts: int
    reviewed: int  # by a person: approved or rejected
    approved: int
    edited: int
    rejected: int
    auto_sent: int
    pending: int
    approval_rate: float | None  # approved / reviewed
    edit_rate: float | None  # edited / approved (target under EDIT_RATE_TARGET)
    edit_rate_target: float
    rejection_rate: float | None  # rejected / reviewed
    mean_edit_size: float | None
    sent: int
    auto_send_share: float | None  # auto-sent / sent
    channels: list[dict[str, Any]]
    by_step: list[dict[str, Any]]
    conversations: dict[str, Any]  # analytics.conversation_stats: reply rate, reply kinds, time to answer

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def review_numbers(period: Period) -> dict[str, Any]:
    """What happened to the drafts written in the period, and the share of the period's sends that went out on
    their own (the numbers the previous period is compared on)."""
    # Drafts written by the models (a holdout lead's reply is a person's from the start: not a draft to judge).
    drafts = Message.objects.filter(created_at__gte=period.start, created_at__lt=period.end).exclude(
        generated_by=Message.GeneratedBy.HOLDOUT
    )
    person = ~Q(approved_by=AUTO_SEND)
    counts = drafts.aggregate(
        drafts=Count("id"),
        approved=Count("id", filter=Q(status__in=SENT_STATUSES) & person),
        edited=Count("id", filter=Q(status__in=SENT_STATUSES, edit_size__gt=0) & person),
        rejected=Count("id", filter=Q(status="rejected")),
        auto_sent=Count("id", filter=Q(approved_by=AUTO_SEND)),
        pending=Count("id", filter=Q(status="pending_review")),
        mean_edit=Avg("edit_size", filter=Q(status__in=SENT_STATUSES) & person),
    )
    sent = Message.objects.filter(sent_at__gte=period.start, sent_at__lt=period.end).aggregate(
        n=Count("id"), auto=Count("id", filter=Q(approved_by=AUTO_SEND))
    )
    reviewed = counts["approved"] + counts["rejected"]
    mean_edit = counts.pop("mean_edit")
    return {
        **counts,
        "reviewed": reviewed,
        "mean_edit_size": round(float(mean_edit), 1) if mean_edit is not None else None,
        "approval_rate": rate(counts["approved"], reviewed),
        "edit_rate": rate(counts["edited"], counts["approved"]),
        "rejection_rate": rate(counts["rejected"], reviewed),
        "sent": sent["n"],
        "auto_send_share": rate(sent["auto"], sent["n"]),
    }


def messaging_stats(period: Period) -> MessagingStats:
    numbers = review_numbers(period)
    channels, by_step = sent_message_outcomes(period)
    return MessagingStats(
        period=period.as_dict(),
        drafts=numbers["drafts"],
        reviewed=numbers["reviewed"],
        approved=numbers["approved"],
        edited=numbers["edited"],
        rejected=numbers["rejected"],
        auto_sent=numbers["auto_sent"],
        pending=numbers["pending"],
        approval_rate=numbers["approval_rate"],
        edit_rate=numbers["edit_rate"],
        edit_rate_target=EDIT_RATE_TARGET,
        rejection_rate=numbers["rejection_rate"],
        mean_edit_size=numbers["mean_edit_size"],
        sent=numbers["sent"],
        auto_send_share=numbers["auto_send_share"],
        channels=channels,
        by_step=by_step,
        conversations=conversation_stats(period),
    )


OUTCOMES = ("delivered", "opened", "clicked", "replied", "unsubscribed", "converted")


def sent_message_outcomes(period: Period) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What became of the messages sent in the period, per channel and per sequence step, in one scan of the
    messages (messaging.outcomes stamps each outcome on the message when it happens): delivered, opened (a person;
    WhatsApp's "read" too), clicked (a person), replied (the lead wrote before our next message), unsubscribed
    (the address opted out or complained after it, the last message sent there), converted (the lead converted
    after it, the last message sent to them)."""
    tables = {t.__name__: t._meta.db_table for t in (Message, LeadSequenceStep, LeadSequence, Sequence)}
    counts = ", ".join(f"count(m.{what}_at)" for what in OUTCOMES)
    sql = f"""
        SELECT GROUPING(m.channel) = 0, m.channel, coalesce(q.name, 'first reply'), coalesce(s.position, 0),
               count(*), {counts}
        FROM {tables["Message"]} m
        LEFT JOIN {tables["LeadSequenceStep"]} s ON s.message_id = m.id
        LEFT JOIN {tables["LeadSequence"]} r ON r.id = s.lead_sequence_id
        LEFT JOIN {tables["Sequence"]} q ON q.id = r.sequence_id
        WHERE m.sent_at >= %s AND m.sent_at < %s
        GROUP BY GROUPING SETS ((m.channel), (coalesce(q.name, 'first reply'), coalesce(s.position, 0)))
    """  # noqa: S608 (our own table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end])
        rows = cursor.fetchall()
    channels, steps = [], []
    for is_channel, channel, sequence, step, n, *outcomes in rows:
        found = dict(zip(OUTCOMES, outcomes, strict=True))
        if is_channel:
            row: dict[str, Any] = {"channel": channel, "sent": n}
            for what in OUTCOMES[:5]:
                row[what] = found[what]
                row[f"{what}_rate"] = rate(found[what], n)
            channels.append(row)
        else:
            steps.append(
                {
                    "sequence": sequence,
                    "step": step,
                    "sent": n,
                    "replied": found["replied"],
                    "converted": found["converted"],
                    "reply_rate": rate(found["replied"], n),
                    "conversion_rate": rate(found["converted"], n),
                }
            )
    channels.sort(key=lambda r: r["channel"])
    steps.sort(key=lambda r: (r["sequence"] != "first reply", r["sequence"], r["step"]))
    return channels, steps
