from __future__ import annotations

from django.apps import AppConfig


class BizpilotConfig(AppConfig):
    name = "bizpilot"
    verbose_name = "BizPilot"
    operator_permissions = ["bizpilot.review", "bizpilot.view_auditevent"]

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from bizpilot.access import ensure_operators_group

        post_migrate.connect(ensure_operators_group, dispatch_uid="bizpilot.operators_group")

        from bizpilot import metrics

        metrics.register()
