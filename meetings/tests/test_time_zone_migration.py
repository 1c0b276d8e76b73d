"""Upgrading an install whose availability and auto-send policy each kept a time zone: the business profile gets
the one in use (the availability's first), and going back gives each the business's zone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("meetings", "0001_initial"),
    ("messaging", "0022_alter_senderroute_body"),
    ("bizpilot", "0005_business_time_zone"),
]
AFTER = [("meetings", "0002_time_zone_to_business_profile"), ("messaging", "0023_time_zone_to_business_profile")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_time_zones_kept_apart_become_the_business_profiles_one():
    try:
        old = migrate(BEFORE)
        old.get_model("messaging", "AutoSendPolicy").objects.create(time_zone="Europe/Paris")
        old.get_model("meetings", "Availability").objects.create(time_zone="America/Denver", monday="09:00-17:00")
        new = migrate(AFTER)
        profile = new.get_model("bizpilot", "BusinessProfile").objects.get()
        assert profile.time_zone == "America/Denver" and profile.name == "Northwind Web Studio"

        old = migrate(BEFORE)  # back: each has the business's zone again
        assert old.get_model("meetings", "Availability").objects.get().time_zone == "America/Denver"
        assert old.get_model("messaging", "AutoSendPolicy").objects.get().time_zone == "America/Denver"
        old.get_model("meetings", "Availability").objects.all().delete()
        old.get_model("bizpilot", "BusinessProfile").objects.all().delete()
        old.get_model("messaging", "AutoSendPolicy").objects.update(time_zone="Europe/Paris")
        new = migrate(AFTER)  # no availability: the policy's zone
        assert new.get_model("bizpilot", "BusinessProfile").objects.get().time_zone == "Europe/Paris"
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
