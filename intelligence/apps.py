from __future__ import annotations

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
    ]

    def ready(self) -> None:
        import logging

        from django.conf import settings

        from bizpilot.health import llm_model_deprecation

        end_of_life = llm_model_deprecation(settings.LLM_MODEL)
        if end_of_life:
            logging.getLogger(__name__).warning(
                "LLM_MODEL %s is deprecated by Anthropic and reaches end of life on %s; choose a current model",
                settings.LLM_MODEL,
                end_of_life,
            )
