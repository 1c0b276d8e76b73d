"""Leads as CSV, from the admin (the list's own filters, or the selected leads) and the API (its filters), streamed;
a spreadsheet formula in a lead's field is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(db):
    made = [
        Lead.objects.create(name="Ann Hot", email="ann@x.example", intent="hot", state="converted", source="api"),
        Lead.objects.create(
            name="=HYPERLINK(evil)", email="bob@x.example", intent="warm", state="contacted", source="typeform"
        ),
        Lead.objects.create(name="Cy Cold", email="cy@x.example", intent="cold", state="lost", source="api"),
    ]
    Lead.objects.create(name="", email="", intent="hot", state="converted", erased_at="2026-12-01T00:00:00Z")
    return made


def rows(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_api_streams_the_filtered_leads_with_intent_stage_source_and_outcome(api, leads):
    response = api.get("/api/leads/export.csv", {"source": "api"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    found = rows(response)
    assert [(r["name"], r["intent"], r["stage"], r["source"], r["outcome"]) for r in found] == [
        ("Ann Hot", "hot", "converted", "api", "won"),
        ("Cy Cold", "cold", "lost", "api", "lost"),
    ]
    assert [r["name"] for r in rows(api.get("/api/leads/export.csv", {"intent": "warm"}))] == ["'=HYPERLINK(evil)"]


def test_a_bad_filter_is_a_clear_json_error(api, leads):
    response = api.get("/api/leads/export.csv", {"created_after": "yesterday", "state": "won"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"created_after", "state"}


def test_the_admin_exports_what_its_list_shows(admin_client, leads):
    listing = admin_client.get("/admin/leads/lead/?intent__exact=hot")
    assert 'href="/admin/leads/lead/export.csv?intent__exact=hot"' in listing.text
    found = rows(admin_client.get("/admin/leads/lead/export.csv?intent__exact=hot"))
    assert [r["name"] for r in found] == ["Ann Hot"]  # the erased person is left out
    selected = admin_client.post(
        "/admin/leads/lead/", {"action": "export_csv", "_selected_action": [leads[1].pk, leads[2].pk]}
    )
    assert [r["email"] for r in rows(selected)] == ["bob@x.example", "cy@x.example"]
