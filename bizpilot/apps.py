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

        from django_q.signals import pre_execute

        from bizpilot.logging import bind_job_context

        pre_execute.connect(bind_job_context, dispatch_uid="bizpilot.job_log_context")

        from django.contrib.auth.signals import user_login_failed

        from bizpilot.security import on_login_failed

        user_login_failed.connect(on_login_failed, dispatch_uid="bizpilot.login_failures")
