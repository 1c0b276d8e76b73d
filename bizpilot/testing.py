"""pytest plugin loaded with `-p bizpilot.testing` before Django starts: selects the test environment."""

from __future__ import annotations

import os

os.environ["BIZPILOT_ENV"] = "test"
os.environ.pop("ANTHROPIC_API_KEY", None)
os.environ.pop("SENDGRID_API_KEY", None)


def pytest_sessionfinish(session, exitstatus):
    # Stop the embedded PostgreSQL when this test run was the one that started it.
    from bizpilot import embedded_db

    if embedded_db.started_here():
        embedded_db.stop()
