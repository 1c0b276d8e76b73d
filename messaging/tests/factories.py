"""Test data for messaging."""

from __future__ import annotations

from factory.django import DjangoModelFactory

from messaging.models import AutoSendPolicy


class AutoSendPolicyFactory(DjangoModelFactory):
    """The auto-send policy, switched on (the product's default is off)."""

    class Meta:
        model = AutoSendPolicy

    enabled = True
    threshold = 0.85
