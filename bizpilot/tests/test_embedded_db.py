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


def test_every_connection_searches_hnsw_with_the_configured_breadth(db, settings):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == str(settings.HNSW_EF_SEARCH) == "100"
