"""The meetings app's part of erasing and exporting a person: their meetings keep only their times and status (the
slot stays taken, the funnel keeps its count), without the attendee's name, email or cancellation reason; an erased
person's meetings booked elsewhere are matched by nothing afterwards."""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from bizpilot.audit import audit_scrub
from meetings.models import Meeting, SlotOffer


def person_erase(*, lead_ids: list[int]) -> dict[str, int]:
    meetings = Meeting.objects.filter(lead_id__in=lead_ids)
    audit_scrub(model=Meeting, ids=meetings.values_list("pk", flat=True))
    return {
        "meetings.Meeting": meetings.update(attendee_email="", attendee_name="", cancel_reason=""),
    }


def person_export(*, lead_ids: list[int]) -> dict[str, Any]:
    return {
        "meetings": [model_to_dict(m) for m in Meeting.objects.filter(lead_id__in=lead_ids).order_by("starts_at")],
        "meeting_times_offered": [
            model_to_dict(o) for o in SlotOffer.objects.filter(lead_id__in=lead_ids).order_by("created_at")
        ],
    }
