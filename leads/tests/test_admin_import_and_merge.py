"""The admin's CSV upload (run as a job, progress and error report on its page) and merging two leads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bizpilot.models import AuditEvent
from leads.ingest import LeadInput, lead_ingest
from leads.models import InboundMessage, Lead, LeadImport

pytestmark = pytest.mark.django_db

CSV = b"Name,Email,Message\nRuth,ruth@okafor.example,Booking site\nBroken,nope,hi\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_uploaded_csv_is_imported_by_a_job_and_its_page_shows_the_result(
    admin_client, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued on commit (and runs inline in tests)
        response = admin_client.post(
            "/admin/leads/leadimport/add/",
            {
                "file": SimpleUploadedFile("expo.csv", CSV, content_type="text/csv"),
                "source": "expo",
                "column_map": "{}",
            },
        )
    assert response.status_code == 302
    lead_import = LeadImport.objects.get()
    assert (lead_import.status, lead_import.rows, lead_import.created, lead_import.invalid) == ("done", 2, 1, 1)
    assert lead_import.percent == 100 and lead_import.created_by == "user:admin"
    assert Lead.objects.get().source == "expo"
    page = admin_client.get(f"/admin/leads/leadimport/{lead_import.pk}/change/").content.decode()
    assert "3,email,&#x27;nope&#x27; is not an email address" in page


def test_only_csv_files_are_accepted(admin_client, media):
    response = admin_client.post(
        "/admin/leads/leadimport/add/",
        {
            "file": SimpleUploadedFile("leads.xlsx", b"PK\x03\x04", content_type="application/zip"),
            "column_map": "{}",
        },
    )
    assert response.status_code == 200 and "Upload a .csv file" in response.content.decode()
    assert not LeadImport.objects.exists()


def test_merging_two_leads_keeps_every_message_and_is_audited(admin_client):
    first = lead_ingest(
        data=LeadInput(email="ruth@okafor.example", name="Ruth", message="First"),
        channel="api",
        actor="t",
        raw_payload={},
    )
    second = lead_ingest(
        data=LeadInput(phone="07700 900123", company="Okafor Salon", message="Second"),
        channel="sms",
        actor="t",
        raw_payload={},
    )
    selected = {"action": "merge_leads", "_selected_action": [first.pk, second.pk]}
    confirm_page = admin_client.post("/admin/leads/lead/", selected)
    assert "Merge two leads" in confirm_page.content.decode() and Lead.objects.count() == 2

    admin_client.post("/admin/leads/lead/", {**selected, "confirm": "Merge", "keep": first.pk})
    kept = Lead.objects.get()
    assert (kept.pk, kept.email, kept.phone, kept.company) == (
        first.pk,
        "ruth@okafor.example",
        "+447700900123",
        "Okafor Salon",
    )
    assert sorted(InboundMessage.objects.filter(lead=kept).values_list("body", flat=True)) == ["First", "Second"]
    event = AuditEvent.objects.get(action="lead.merge")
    assert event.after["merged_id"] == second.pk and event.before["merged_lead"]["phone"] == "+447700900123"
    assert event.actor == "user:admin"
