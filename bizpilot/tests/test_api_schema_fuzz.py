"""schemathesis against /api/schema/: every operation with generated requests, all checks (no 5xx, no
schema-valid request rejected, every status code and response body documented), in-process through WSGI."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from bizpilot.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CURRENT_KEY: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class ApiKeyAuth:
    """The test's API key as `Authorization: Bearer`, which schemathesis also leaves out or spoils to check that
    the API then refuses the call."""

    def get(self, case, context):
        return CURRENT_KEY.get("key", "")

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def auth(api_key):
    """The API key for the calls; and, as Django's test client does, requests keep the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    CURRENT_KEY["key"] = api_key
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db
def test_the_api_behaves_as_its_schema_says(case, auth):
    case.call_and_validate()


APIStateMachine = schema.as_state_machine()


@pytest.mark.django_db
def test_the_api_behaves_as_its_schema_says_across_calls(auth):
    """The stateful phase: chains of calls along the schema's links (a lead created, then read, corrected, stopped,
    exported and erased; the messages listed, then read and reviewed), each answer checked."""
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        APIStateMachine,
        settings=settings(
            max_examples=15, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
