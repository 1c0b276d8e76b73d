"""Operators' intent corrections: the correction takes effect on the lead and teaches the classifier."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from bizpilot.access import REVIEW, require_permission
from bizpilot.audit import audit_record
from bizpilot.errors import NotFound, ValidationFailed
from intelligence.classification import has_signal, lead_text
from intelligence.classifier import INTENTS
from intelligence.embedding_state import active_embedding_model
from intelligence.embeddings import get_embedder
from intelligence.examples import examples_changed
from intelligence.models import Classification, IntentExample, text_hash
from leads.lifecycle import lead_record_classification
from leads.models import Lead
from leads.selectors import latest_inbound


def lead_correct_intent(*, lead_id: int, intent: str, actor: str, user: Any = None) -> Classification:
    """An operator says what the lead's intent really is. The correction takes effect on the lead, is kept as a
    Classification, and the lead's text becomes a labelled example (origin `operator`) that the next similar lead is
    classified with."""
    require_permission(user, REVIEW, "correct a lead's intent")
    if intent not in INTENTS:
        raise ValidationFailed("Unknown intent.", fields={"intent": [f"Must be one of {', '.join(INTENTS)}."]})
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    inbound = latest_inbound(lead_id=lead.pk)
    text = lead_text(subject=inbound.subject, body=inbound.body) if inbound else ""
    learnable = has_signal(text)
    model_name = active_embedding_model()
    vector = get_embedder().embed_one(text) if learnable else None  # before the transaction

    with transaction.atomic():
        previous = {"intent": lead.intent, "confidence": lead.intent_confidence}
        example = None
        if learnable:
            example, _ = IntentExample.objects.update_or_create(
                text_hash=text_hash(text),
                embedding_model=model_name,
                defaults={
                    "text": text,
                    "intent": intent,
                    "origin": IntentExample.Origin.OPERATOR,
                    "embedding": vector,
                    "source_lead": lead,
                    "created_by": actor,
                },
            )
        classification = Classification.objects.create(
            lead=lead,
            intent=intent,
            confidence=1.0,
            scores={i: float(i == intent) for i in INTENTS},
            method="operator",
            explanation={
                "summary": f"Set to {intent} by {actor} (was {previous['intent'] or 'unclassified'}).",
                "previous": previous,
                "learned_example_id": example.pk if example else None,
                "neighbours": [],
                "notes": [] if learnable else ["the lead has no text to learn from"],
            },
            embedding_model=model_name,
        )
        lead_record_classification(lead_id=lead.pk, intent=intent, confidence=1.0, actor=actor)
        if example is not None:
            audit_record(actor=actor, action="intent_example.learn", obj=example, after={"intent": intent})
        examples_changed()
    return classification
