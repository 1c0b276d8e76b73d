from __future__ import annotations

from django.apps import AppConfig


class BizpilotConfig(AppConfig):
    name = "bizpilot"
    verbose_name = "BizPilot"
