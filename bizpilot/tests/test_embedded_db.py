from __future__ import annotations

from bizpilot import embedded_db


def test_the_embedded_server_is_reused_not_restarted(db):
    # The test run already uses it (unless DATABASE_URL points elsewhere): a second call finds it running.
    if not embedded_db.is_running():
        return
    pid_before = embedded_db._postmaster_info().pid
    url = embedded_db.ensure_running()
    assert url.startswith("postgresql://postgres@") and url.endswith("/bizpilot")
    assert embedded_db._postmaster_info().pid == pid_before
