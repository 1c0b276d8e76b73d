"""schemathesis against /api/schema/: every operation with generated requests, all checks (no 5xx, no
schema-valid request rejected, every status code and response body documented), in-process through WSGI."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

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
def auth(api_key, settings):
    """The API key for the calls; and, as Django's test client does, requests keep the test's database connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    CURRENT_KEY["key"] = api_key
    # schemathesis tries many wrong keys on purpose: the per-address lockout would answer the rest with 429.
    settings.AUTH_FAILURES_PER_MINUTE = 100_000
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# JSON Schema cannot say that a phone number or an email address is real (+44 20 0000 0000 is well formed, and no
# number): a lead with such a value is refused with a field error, which schemathesis would call a schema-valid
# request rejected. That one check is left out for that one operation; every other check still runs on it.
SEMANTIC = {("POST", "/api/leads/"): [positive_data_acceptance]}
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_the_api_behaves_as_its_schema_says(case, auth):
    case.call_and_validate(excluded_checks=SEMANTIC.get((case.method.upper(), case.path), []))


class APIStateMachine(schema.as_state_machine()):  # type: ignore[misc]
    def validate_response(self, response, case, additional_checks=None, **kwargs):
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=SEMANTIC.get((case.method.upper(), case.path), []),
            transport_kwargs=kwargs,
        )


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
