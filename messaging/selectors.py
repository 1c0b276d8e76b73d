"""Reads reused by the API and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from bizpilot.errors import NotFound
from leads.models import Lead
from messaging.models import Message


def message_list(*, status: str | None = None) -> QuerySet[Message]:
    queryset = Message.objects.select_related("lead", "classification", "model_call", "prompt_template").order_by(
        "-created_at", "-id"
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def lead_detail(*, lead_id: int) -> dict[str, Any]:
    """A lead with its classification in effect (intent, confidence, explanation, snippets) and its messages."""
    lead = (
        Lead.objects.prefetch_related(
            "inbound_messages",
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id").only("id", "lead_id")),
        )
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    classification = lead.classifications.order_by("-created_at", "-id").first()
    return {
        "id": lead.pk,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "source": lead.source,
        "state": lead.state,
        "intent": lead.intent or None,
        "confidence": lead.intent_confidence,
        "explanation": classification.explanation if classification else None,
        "snippets": classification.snippets if classification else [],
        "last_error": lead.last_error,
        "inbound_messages": list(lead.inbound_messages.all()),
        "message_ids": [m.pk for m in lead.messages.all()],
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
    }
