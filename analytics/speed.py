"""Speed to lead: how long a lead waits for a person to see it (the first time anyone opened its conversation or
draft) and for the first message sent, p50 and p95 in minutes, overall, by intent and by the hour of day it
arrived (the business's time); the share of hot leads answered within five minutes; and the alerts sent,
acknowledged, failed and escalated. About the leads (and alerts) of the period. One query for the leads, one for
the alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from alerts.models import Alert, LeadView
from analytics.periods import Period
from bizpilot.stats import rate
from leads.models import Lead

ANSWERED_WITHIN_MINUTES = 5


@dataclass
class SpeedToLead:
    period: dict[str, Any]
    overall: dict[str, Any]
    by_intent: list[dict[str, Any]]
    by_hour: list[dict[str, Any]]  # the hours of day leads arrived in, 0-23 (business time)
    hot_answered_within_5_minutes: float | None  # of the hot leads received
    hot_leads: int
    alerts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _minutes(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def speed_to_lead(period: Period) -> SpeedToLead:
    sql = f"""
        WITH l AS (
            SELECT l.intent,
                   extract(hour FROM l.created_at AT TIME ZONE %s)::int AS hour,
                   extract(epoch FROM v.seen - l.created_at) / 60 AS seen,
                   extract(epoch FROM l.contacted_at - l.created_at) / 60 AS sent
            FROM {Lead._meta.db_table} l
            LEFT JOIN (SELECT lead_id, min(first_seen_at) AS seen FROM {LeadView._meta.db_table} GROUP BY lead_id) v
                   ON v.lead_id = l.id
            WHERE l.created_at >= %s AND l.created_at < %s
        )
        SELECT GROUPING(intent), GROUPING(hour), intent, hour, count(*), count(seen), count(sent),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seen), percentile_cont(0.95) WITHIN GROUP (ORDER BY seen),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY sent), percentile_cont(0.95) WITHIN GROUP (ORDER BY sent),
               count(*) FILTER (WHERE sent <= %s)
        FROM l GROUP BY GROUPING SETS ((intent), (hour), ())
    """  # noqa: S608 (our own table names)
    with connection.cursor() as cursor:
        cursor.execute(sql, [settings.BUSINESS_TIME_ZONE, period.start, period.end, ANSWERED_WITHIN_MINUTES])
        rows = cursor.fetchall()
    overall: dict[str, Any] = {}
    by_intent, by_hour = [], []
    hot, hot_fast = 0, 0
    for no_intent, no_hour, intent, hour, leads, seen, sent, seen50, seen95, sent50, sent95, fast in rows:
        numbers = {
            "leads": leads,
            "seen": seen,
            "answered": sent,
            "seen_minutes_p50": _minutes(seen50),
            "seen_minutes_p95": _minutes(seen95),
            "first_message_minutes_p50": _minutes(sent50),
            "first_message_minutes_p95": _minutes(sent95),
            "answered_within_5_minutes": rate(fast, leads),
        }
        if no_intent and no_hour:
            overall = numbers
        elif not no_intent:
            by_intent.append({"intent": intent or "unclassified", **numbers})
            if intent == "hot":
                hot, hot_fast = leads, fast
        else:
            by_hour.append({"hour": hour, **numbers})
    return SpeedToLead(
        period=period.as_dict(),
        overall=overall or {"leads": 0},
        by_intent=sorted(
            by_intent,
            key=lambda r: ["hot", "warm", "cold"].index(r["intent"]) if r["intent"] in ("hot", "warm", "cold") else 3,
        ),
        by_hour=sorted(by_hour, key=lambda r: r["hour"]),
        hot_answered_within_5_minutes=rate(hot_fast, hot),
        hot_leads=hot,
        alerts=alert_numbers(period),
    )


def alert_numbers(period: Period) -> dict[str, Any]:
    sql = f"""
        SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered', 'acknowledged')),
               count(*) FILTER (WHERE status = 'acknowledged'),
               count(*) FILTER (WHERE status = 'failed'),
               count(*) FILTER (WHERE level > 0),
               count(DISTINCT event) FILTER (WHERE level > 0),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - created_at) / 60)
        FROM {Alert._meta.db_table} WHERE created_at >= %s AND created_at < %s AND kind <> 'digest'
    """  # noqa: S608 (our own table name)
    with connection.cursor() as cursor:
        cursor.execute(sql, [period.start, period.end])
        sent, acknowledged, failed, escalations, escalated_items, ack50 = cursor.fetchone()
    return {
        "sent": sent,
        "acknowledged": acknowledged,
        "acknowledged_share": rate(acknowledged, sent),
        "failed": failed,
        "escalations": escalations,
        "items_escalated": escalated_items,
        "minutes_to_acknowledge_p50": _minutes(ack50),
    }
