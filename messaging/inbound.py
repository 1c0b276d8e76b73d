"""Texts in (SMS, WhatsApp): STOP and START words change the suppression list; anything else is a lead's message."""

from __future__ import annotations

from leads.autoreply import auto_reply_check
from leads.ingest import LeadInput, lead_ingest
from messaging.models import Suppression
from messaging.suppression import START_WORDS, STOP_WORDS, suppression_add, suppression_remove


def inbound_text_receive(
    *, channel: str, sender: str, body: str, provider_message_id: str, name: str, raw_payload: dict
) -> str:
    """An SMS or WhatsApp message: STOP words opt out, START words opt back in (only when opted out), anything
    else is a lead's message (new lead, attached, or a reply). Returns what happened."""
    keyword = body.strip().upper().rstrip(".!")
    actor = f"{channel}:{sender}"
    if keyword in STOP_WORDS:
        suppression_add(
            address=sender,
            reason=Suppression.Reason.STOP,
            source=f"twilio:{provider_message_id}",
            actor=actor,
            payload=raw_payload,
        )
        return "opted_out"
    if keyword in START_WORDS and suppression_remove(
        address=sender, source=f"twilio:{provider_message_id}", actor=actor
    ):
        return "opted_in"
    lead = lead_ingest(
        data=LeadInput(name=name, phone=sender, message=body, source=channel),
        channel=channel,
        actor=actor,
        raw_payload=raw_payload,
        provider_message_id=provider_message_id,
        automated=auto_reply_check(body=body),  # "I'm driving", a business's away message
    )
    return lead.ingest_outcome
