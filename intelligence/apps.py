from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    name = "intelligence"
    verbose_name = "Intelligence"
    operator_permissions = [
        "intelligence.view_classification",
        "intelligence.view_intentexample",
        "intelligence.view_knowledgedocument",
        "intelligence.view_knowledgechunk",
        "intelligence.view_modelcall",
        "intelligence.view_voiceexample",
        "intelligence.view_prompttemplate",
        "intelligence.view_replyclassification",
    ]

    def ready(self) -> None:
        import logging

        from leads.signals import lead_merging

        lead_merging.connect(_on_lead_merging, dispatch_uid="intelligence.lead_merging")

        from leads.signals import lead_erasing, lead_exporting

        lead_erasing.connect(_on_lead_erasing, dispatch_uid="intelligence.lead_erasing")
        lead_exporting.connect(_on_lead_exporting, dispatch_uid="intelligence.lead_exporting")

        from django_q.signals import post_spawn

        from intelligence.warmup import worker_warm_up

        post_spawn.connect(worker_warm_up, dispatch_uid="intelligence.worker_warm_up")

        from django.conf import settings

        from bizpilot.health import llm_model_deprecation

        end_of_life = llm_model_deprecation(settings.LLM_MODEL)
        if end_of_life:
            logging.getLogger(__name__).warning(
                "LLM_MODEL %s is deprecated by Anthropic and reaches end of life on %s; choose a current model",
                settings.LLM_MODEL,
                end_of_life,
            )


def _on_lead_merging(sender: Any, *, keep_id: int, merge_id: int, **kwargs: Any) -> dict[str, int]:
    from bizpilot.relations import references_move
    from leads.models import Lead

    return references_move(model=Lead, source_id=merge_id, target_id=keep_id, app_label="intelligence")


def _on_lead_erasing(sender: Any, *, lead_ids: list[int], addresses: list[str], **kwargs: Any) -> dict[str, int]:
    from intelligence.erasure import person_erase

    return person_erase(lead_ids=lead_ids, addresses=addresses)


def _on_lead_exporting(sender: Any, *, lead_ids: list[int], **kwargs: Any) -> dict[str, Any]:
    from intelligence.erasure import person_export

    return person_export(lead_ids=lead_ids)
