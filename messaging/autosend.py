"""The auto-send policy: whether a fresh draft goes out without review (admins set it; every decision is recorded
with its reasons), and holding automatic sends when the lead writes again."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bizpilot.actors import AUTO_SEND
from bizpilot.audit import audit_record
from bizpilot.flags import flags
from bizpilot.settings_rows import settings_row_save
from intelligence.replies import ReplyKind
from messaging.models import AutoSendPolicy, Message, lock_message
from messaging.review import message_approve


def message_apply_send_policy(*, message_id: int) -> Message:
    """Decide once whether a fresh draft goes out without review (the AutoSendPolicy), record why, and approve it
    if so."""
    policy = AutoSendPolicy.current()
    with transaction.atomic():
        message = lock_message(message_id)
        if message.status != Message.Status.PENDING_REVIEW or message.auto_send_decision:
            return message
        reasons = auto_send_withheld_because(message, policy)
        send = not reasons
        message.auto_send_decision = (
            f"auto-sent: confidence {message.draft_confidence:.2f} >= {auto_send_threshold(message, policy):.2f}, "
            "every check passed"
            if send
            else "held for review: " + "; ".join(reasons)
        )
        message.save(update_fields=["auto_send_decision", "updated_at"])
        audit_record(
            actor=AUTO_SEND,
            action="message.auto_send_decision",
            obj=message,
            after={"decision": message.auto_send_decision},
        )
    if send:
        return message_approve(message_id=message_id, actor=AUTO_SEND)
    return message


# The kinds of reply that get an answer (auto-replies and requests to stop get none).
ANSWERABLE_REPLY_KINDS = [k.value for k in ReplyKind if k not in (ReplyKind.AUTO_REPLY, ReplyKind.STOP)]

AUTO_SEND_POLICY_FIELDS = [
    "enabled",
    "threshold",
    "email",
    "sms",
    "whatsapp",
    "hot",
    "warm",
    "cold",
    "quiet_hours_start",
    "quiet_hours_end",
    "daily_cap",
    "reply_kinds",
]


def auto_send_policy_save(*, values: dict[str, Any], actor: str, user: Any = None) -> AutoSendPolicy:
    """Change the auto-send policy (admins only); the change is audited with before and after."""
    return settings_row_save(
        model=AutoSendPolicy,
        fields=AUTO_SEND_POLICY_FIELDS,
        values=values,
        actor=actor,
        user=user,
        permission=("messaging.change_autosendpolicy", "change the auto-send policy"),
        validate=auto_send_policy_validate,
        invalid="The auto-send policy is not valid.",
        action="auto_send_policy.change",
        default=AutoSendPolicy.current,
    )


def auto_send_policy_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors for a policy change (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    threshold = values.get("threshold", 0.85)
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        errors["threshold"] = ["Must be a number from 0 to 1."]
    kinds = values.get("reply_kinds", [])
    if not isinstance(kinds, list) or any(k not in ANSWERABLE_REPLY_KINDS for k in kinds):
        errors["reply_kinds"] = [f"A list of reply kinds from: {', '.join(ANSWERABLE_REPLY_KINDS)}."]
    if bool(values.get("quiet_hours_start")) != bool(values.get("quiet_hours_end")):
        errors["quiet_hours_end"] = ["Give both the start and the end of the quiet hours, or neither."]
    return errors


def auto_send_threshold(message: Message, policy: AutoSendPolicy) -> float:
    """The confidence this draft needs: its experiment variant's, when it is in an auto-send-threshold experiment."""
    variant = message.experiment_variant
    if variant is not None and variant.auto_send_threshold is not None:
        return variant.auto_send_threshold
    return policy.threshold


def auto_send_withheld_because(message: Message, policy: AutoSendPolicy) -> list[str]:
    """Every reason the policy keeps this draft for a person (empty: it may go out on its own)."""
    reasons = []
    if not policy.enabled:
        reasons.append("auto-send is off")
    elif not flags().auto_send:
        reasons.append("auto-send is switched off in the feature flags")
    threshold = auto_send_threshold(message, policy)
    if message.draft_confidence is None or message.draft_confidence < threshold:
        reasons.append(f"confidence {message.draft_confidence or 0:.2f} < {threshold:.2f}")
    if not getattr(policy, message.channel, False):
        reasons.append(f"auto-send is off for {message.get_channel_display()}")
    intent = message.classification.intent if message.classification else message.lead.intent
    if intent and not getattr(policy, intent, False):
        reasons.append(f"auto-send is off for {intent} leads")
    now = timezone.now()
    if message.reply_kind and message.reply_kind not in (policy.reply_kinds or []):
        reasons.append(f"auto-send is off for answers to this kind of reply ({message.reply_kind})")
    if policy.quiet_hours_end_after(channel=message.channel, now=now):
        start, end = policy.quiet_hours_start, policy.quiet_hours_end
        reasons.append(f"quiet hours for texts ({start:%H:%M}-{end:%H:%M} {policy.zone().key})")
    if policy.daily_cap_resets_at(now=now):
        reasons.append(f"today's cap of {policy.daily_cap} automatic sends is reached")
    reasons += [f"check failed: {reason}" for reason in message.checks_failed]
    reasons += [f"possible prompt injection: {signal}" for signal in message.injection_signals]
    return reasons


def lead_wrote_again_hold_auto_sends(*, lead_id: int, inbound_id: int) -> int:
    """The lead wrote again: replies we were about to send automatically go back to review, because they answer a
    conversation that has moved on. Returns how many were held."""
    held = 0
    with transaction.atomic():
        pending = Message.objects.select_for_update().filter(
            lead_id=lead_id, status=Message.Status.APPROVED, approved_by=AUTO_SEND
        )
        for message in pending:
            message.status = Message.Status.PENDING_REVIEW
            message.approved_hash = ""
            message.approved_by = ""
            message.approved_at = None
            message.auto_send_decision = (
                f"{message.auto_send_decision}; cancelled: the lead wrote again (#{inbound_id})"
            )
            message.save(
                update_fields=[
                    "status",
                    "approved_hash",
                    "approved_by",
                    "approved_at",
                    "auto_send_decision",
                    "updated_at",
                ]
            )
            after = {"status": message.status, "reason": "the lead wrote again", "inbound_id": inbound_id}
            audit_record(
                actor=AUTO_SEND,
                action="message.auto_send_cancelled",
                obj=message,
                before={"status": Message.Status.APPROVED},
                after=after,
            )
            held += 1
    return held
