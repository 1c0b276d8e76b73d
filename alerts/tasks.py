"""django-q2 jobs of the alerts app: thin wrappers that take ids and call one service."""

from __future__ import annotations

from alerts.delivery import alert_deliver, alerts_deliver_due
from alerts.digest import alerts_send_digests
from alerts.escalation import alerts_escalate_due
from alerts.raising import alerts_raise_for_turn


def raise_alerts(lead_id: int, inbound_id: int, message_id: int | None, intent: str, kind: str) -> int:
    return len(
        alerts_raise_for_turn(lead_id=lead_id, inbound_id=inbound_id, message_id=message_id, intent=intent, kind=kind)
    )


def deliver_alert(alert_id: int) -> str:
    return alert_deliver(alert_id=alert_id).status


def escalate_alerts() -> int:
    return alerts_escalate_due()


def sweep_alerts() -> dict[str, int]:
    """Every minute: alerts due (quiet hours over, retries), escalations, digests."""
    return {
        "delivered": alerts_deliver_due(),
        "escalated": alerts_escalate_due(),
        "digests": alerts_send_digests(),
    }
