"""The suppression list: addresses never written to (unsubscribed, STOP, bounced, complained, added by hand). It is
checked right before every send; an opt-out also marks the person's leads unsubscribed."""

from __future__ import annotations

import hashlib

from django.db import transaction

from bizpilot.audit import audit_record
from leads.contacts import InvalidPhone, normalize_phone
from leads.lifecycle import leads_resubscribe, leads_unsubscribe
from messaging.models import Suppression
from messaging.outcomes import message_stamp_opt_out

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}


START_WORDS = {"START", "UNSTOP", "YES", "SUBSCRIBE"}


# Reasons the person asked for; a bounce or a complaint is not undone by START.
OPT_OUT_REASONS = {Suppression.Reason.UNSUBSCRIBED, Suppression.Reason.STOP}


def suppression_address(address: str) -> str:
    """The form addresses are suppressed in: lower-cased email, or E.164 phone (`whatsapp:` stripped)."""
    address = address.strip()
    if "@" in address:
        return address.lower()
    try:
        return normalize_phone(address)
    except InvalidPhone:
        return address


def suppression_hash(key: str) -> str:
    """How an erased person's address stays on the list: its SHA-256 alone (suppression_address form first)."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def is_suppressed(address: str) -> Suppression | None:
    key = suppression_address(address)
    return Suppression.objects.filter(address__in=[key, suppression_hash(key)]).first()


def suppression_add(*, address: str, reason: str, source: str, actor: str, payload: dict | None = None) -> Suppression:
    """Stop writing to an address (idempotent). An opt-out or complaint also marks the person's leads unsubscribed."""
    key = suppression_address(address)
    with transaction.atomic():
        suppression, created = Suppression.objects.get_or_create(
            address=key, defaults={"reason": reason, "source": source[:200], "payload": payload or {}}
        )
        if created:
            audit_record(
                actor=actor, action="suppression.add", obj=suppression, after={"reason": reason, "source": source}
            )
        if reason in {*OPT_OUT_REASONS, Suppression.Reason.COMPLAINED}:
            leads_unsubscribe(address=key, actor=actor)
            if created:
                message_stamp_opt_out(address=key)
    return suppression


def suppression_remove(*, address: str, source: str, actor: str) -> bool:
    """The person opted back in (START): lift an opt-out they made. Bounces and complaints stay."""
    key = suppression_address(address)
    with transaction.atomic():
        suppression = (
            Suppression.objects.select_for_update()
            .filter(address__in=[key, suppression_hash(key)], reason__in=OPT_OUT_REASONS)
            .first()
        )
        if suppression is None:
            return False
        audit_record(
            actor=actor,
            action="suppression.remove",
            obj=suppression,
            before={"reason": suppression.reason},
            after={"source": source},
        )
        suppression.delete()
        leads_resubscribe(address=key, actor=actor)
    return True
