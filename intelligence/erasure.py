"""The intelligence app's part of erasing and exporting a person (leads.erasure sends the signals): their
classifications and the readings of their replies keep only the verdict, their model calls only the counts (tokens,
cost, latency), and the labelled examples and voice examples made from their words are deleted, embeddings and all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone

from bizpilot.audit import audit_scrub
from intelligence.examples import examples_changed
from intelligence.models import Classification, IntentExample, ModelCall, ReplyClassification, VoiceExample


def person_erase(*, lead_ids: list[int], addresses: list[str]) -> dict[str, int]:
    changed = {
        "intelligence.Classification": Classification.objects.filter(lead_id__in=lead_ids).update(
            explanation={}, snippets=[]
        ),
    }
    # How their replies were read keeps only the kind and the confidence (the reasons and the change quote them).
    changed["intelligence.ReplyClassification"] = ReplyClassification.objects.filter(lead_id__in=lead_ids).update(
        reasons=[], change=""
    )
    calls = Q(lead_id__in=lead_ids)
    for address in addresses:  # a call logged without its lead (none today) is found by what it says
        calls |= Q(request__icontains=address) | Q(response__icontains=address) | Q(error__icontains=address)
    changed["intelligence.ModelCall"] = ModelCall.objects.filter(calls).update(request={}, response={}, error="")
    classifications = Classification.objects.filter(lead_id__in=lead_ids).values_list("pk", flat=True)
    own = IntentExample.objects.filter(source_lead_id__in=lead_ids)
    changed["bizpilot.AuditEvent (intelligence)"] = audit_scrub(
        model=Classification, ids=classifications
    ) + audit_scrub(model=IntentExample, ids=own.values_list("pk", flat=True))
    examples = own.delete()[0]
    if examples:
        examples_changed()  # the classifier forgets them too
    changed["intelligence.IntentExample"] = examples
    return changed


def voice_examples_forget(*, message_ids: list[int]) -> int:
    """The business's voice examples made from these replies (a person's erasure): deleted, embeddings and all."""
    examples = VoiceExample.objects.filter(message_id__in=message_ids)
    audit_scrub(model=VoiceExample, ids=examples.values_list("pk", flat=True))
    return examples.delete()[0]


def person_export(*, lead_ids: list[int]) -> dict[str, Any]:
    return {
        "classifications": [
            model_to_dict(c) for c in Classification.objects.filter(lead_id__in=lead_ids).order_by("created_at")
        ],
        "model_calls": [
            model_to_dict(c) for c in ModelCall.objects.filter(lead_id__in=lead_ids).order_by("created_at")
        ],
        "reply_classifications": [
            model_to_dict(r) for r in ReplyClassification.objects.filter(lead_id__in=lead_ids).order_by("created_at")
        ],
        "intent_examples": [
            model_to_dict(e, exclude=["embedding"]) for e in IntentExample.objects.filter(source_lead_id__in=lead_ids)
        ],
    }


def model_call_bodies_purge(*, older_than: timedelta) -> int:
    """Retention: the prompts and responses of model calls older than this are dropped; tokens, cost, latency and
    status stay for the analytics."""
    cutoff = timezone.now() - older_than
    stale = ModelCall.objects.filter(created_at__lt=cutoff).exclude(request={}, response={})
    return stale.update(request={}, response={}, error="")
