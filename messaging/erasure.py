"""The messaging app's part of erasing and exporting a person (leads.erasure sends the signals): their replies keep
only their status and times (the analytics' counts), the notes about them are deleted, their delivery events lose
the provider's payload, their sequences the reasons, and the suppression list keeps them suppressed by a hash of the
address alone, so an erased person is never written to again and their address is not stored."""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from bizpilot.audit import audit_scrub
from intelligence.erasure import voice_examples_forget
from messaging.models import ConversationNote, DeliveryEvent, LeadSequence, LeadSequenceStep, Message, Suppression
from messaging.suppression import suppression_address, suppression_hash


def person_erase(*, lead_ids: list[int], addresses: list[str]) -> dict[str, int]:
    message_ids = list(Message.objects.filter(lead_id__in=lead_ids).values_list("pk", flat=True))
    changed = {
        "messaging.Message": Message.objects.filter(pk__in=message_ids).update(
            to_address="",
            original_subject="",
            original_body="",
            subject="",
            body="",
            generation_reason="",
            content_variables={},
            approved_hash="",
            rejected_reason="",
            last_error="",
            auto_send_decision="",
        ),
        "messaging.DeliveryEvent": DeliveryEvent.objects.filter(message_id__in=message_ids).update(payload={}),
        "messaging.LeadSequence": LeadSequence.objects.filter(lead_id__in=lead_ids).update(stop_reason=""),
        "messaging.LeadSequenceStep": LeadSequenceStep.objects.filter(lead_sequence__lead_id__in=lead_ids).update(
            reason=""
        ),
        "intelligence.VoiceExample": voice_examples_forget(message_ids=message_ids),
    }
    notes = ConversationNote.objects.filter(lead_id__in=lead_ids)
    audit_scrub(model=ConversationNote, ids=notes.values_list("pk", flat=True))
    changed["messaging.ConversationNote"] = notes.delete()[0]  # what people wrote about them
    runs = LeadSequence.objects.filter(lead_id__in=lead_ids).values_list("pk", flat=True)
    changed["bizpilot.AuditEvent (messaging)"] = audit_scrub(model=Message, ids=message_ids) + audit_scrub(
        model=LeadSequence, ids=runs
    )
    hashed = 0
    for address in addresses:
        key = suppression_address(address)
        for suppression in Suppression.objects.filter(address=key):
            audit_scrub(model=Suppression, ids=[suppression.pk])
            suppression.address, suppression.payload = suppression_hash(key), {}
            suppression.save(update_fields=["address", "payload"])
            hashed += 1
    changed["messaging.Suppression"] = hashed
    return changed


def person_export(*, lead_ids: list[int], addresses: list[str]) -> dict[str, Any]:
    messages = Message.objects.filter(lead_id__in=lead_ids).order_by("created_at")
    keys = [suppression_address(a) for a in addresses]
    return {
        "messages": [
            {**model_to_dict(m), "events": [model_to_dict(e) for e in m.events.order_by("occurred_at")]}
            for m in messages.prefetch_related("events")
        ],
        "sequences": [
            {**model_to_dict(run), "steps": [model_to_dict(step) for step in run.steps.order_by("position")]}
            for run in LeadSequence.objects.filter(lead_id__in=lead_ids)
        ],
        "suppressions": [model_to_dict(s) for s in Suppression.objects.filter(address__in=keys)],
        "conversation_notes": [
            model_to_dict(n) for n in ConversationNote.objects.filter(lead_id__in=lead_ids).order_by("created_at")
        ],
    }
