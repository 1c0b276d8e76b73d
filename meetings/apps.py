from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "Meetings"
    operator_permissions = ["meetings.view_meeting", "meetings.view_availability", "meetings.view_dayoff"]

    def ready(self) -> None:
        from leads.signals import lead_erasing, lead_exporting, lead_merging

        lead_merging.connect(_on_lead_merging, dispatch_uid="meetings.lead_merging")
        lead_erasing.connect(_on_lead_erasing, dispatch_uid="meetings.lead_erasing")
        lead_exporting.connect(_on_lead_exporting, dispatch_uid="meetings.lead_exporting")


def _on_lead_merging(sender: Any, *, keep_id: int, merge_id: int, **kwargs: Any) -> dict[str, int]:
    from bizpilot.relations import references_move
    from leads.models import Lead

    return references_move(model=Lead, source_id=merge_id, target_id=keep_id, app_label="meetings")


def _on_lead_erasing(sender: Any, *, lead_ids: list[int], addresses: list[str], **kwargs: Any) -> dict[str, int]:
    from meetings.erasure import person_erase

    return person_erase(lead_ids=lead_ids)


def _on_lead_exporting(sender: Any, *, lead_ids: list[int], **kwargs: Any) -> dict[str, Any]:
    from meetings.erasure import person_export

    return person_export(lead_ids=lead_ids)
