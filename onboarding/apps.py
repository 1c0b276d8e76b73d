from __future__ import annotations

from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """Getting a real business answering its own leads: what is set up and what is missing (the checklist on the
    admin home), and the setup that fills it in."""

    name = "onboarding"
    verbose_name = "Setup"
