"""POST /api/leads/ does only what it must, in one transaction: the number of SQL queries is held here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

MAX_QUERIES = 8


def post_lead(api, n: int, **headers):
    body = {"name": f"Person {n}", "email": f"person{n}@shop.example", "message": "Can you quote a new website?"}
    return api.post("/api/leads/", body, format="json", **headers)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "with Idempotency-Key"])
def test_a_new_lead_costs_at_most_eight_queries(api, idempotent, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # the job is queued (one INSERT, counted), not run inside the request
    post_lead(api, 0)  # the first request warms per-process caches (content types, the API key's lookup path)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-1"} if idempotent else {}
    with CaptureQueriesContext(connection) as captured:
        response = post_lead(api, 1, **headers)
    assert response.status_code == 202, response.content
    sql = [q["sql"] for q in captured.captured_queries]
    print("\n".join(sql))
    assert len(sql) <= MAX_QUERIES, f"{len(sql)} queries:\n" + "\n".join(sql)
    # The job is queued in the same transaction as the lead: one commit, and never a lead without its job.
    job = next(i for i, q in enumerate(sql) if q.startswith('INSERT INTO "django_q_ormq"'))
    assert sql.index("COMMIT") > job
    # One transaction, no savepoint, and nothing purged on the way.
    assert [q for q in sql if q.startswith(("BEGIN", "SAVEPOINT"))] == ["BEGIN"]
    assert not [q for q in sql if q.startswith("DELETE")]


@pytest.mark.django_db(transaction=True)
def test_a_repeated_idempotency_key_is_answered_from_the_stored_response(api, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    first = post_lead(api, 1, HTTP_IDEMPOTENCY_KEY="k-2")
    with CaptureQueriesContext(connection) as captured:
        again = post_lead(api, 1, HTTP_IDEMPOTENCY_KEY="k-2")
    assert again.status_code == 202 and again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert not [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "django_q')]  # no job
    assert len(captured.captured_queries) <= MAX_QUERIES + 2  # the rolled-back attempt, then one read
