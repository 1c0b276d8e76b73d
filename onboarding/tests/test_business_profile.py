"""The business profile is data: saved in the admin (audited), it is who every reply comes from: the fallback
draft's sign-off, the LLM's instructions (what it sells, where, when, the tone), the email's From address. Its time
zone is the business's one clock: the pages' times, the export's days, a meeting's line in the CRM's note."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bizpilot.business import business, business_save
from bizpilot.errors import ValidationFailed
from bizpilot.models import AuditEvent, BusinessProfile
from intelligence.prompt_templates import prompt_template_live
from intelligence.prompts import LeadFacts, build_prompt, render_fallback
from leads.models import InboundMessage, Lead
from leads.tests.factories import submit_lead
from meetings.models import Meeting
from messaging.selectors import meeting_line

pytestmark = pytest.mark.django_db
PROFILE = {
    "name": "Flow Right Plumbing",
    "sender_name": "Dan",
    "from_email": "Flow Right Plumbing <hello@flowright.example>",
    "offering": "plumbing repairs, boiler servicing and bathroom fitting",
    "area": "Leeds and 20 miles around",
    "opening_hours": "Mon-Fri 8:00-18:00, Sat 9:00-13:00",
    "time_zone": "Europe/London",
    "signature": "Dan Harper\nFlow Right Plumbing · 0113 496 0000",
    "tone": "formal",
    "english": "british",
}


def lead() -> LeadFacts:
    return LeadFacts(lead_id=None, name="Ruth Okafor", company="", channel="email", subject="", message="Leak!")


def test_the_profile_saved_in_the_admin_is_who_replies_come_from(admin_client):
    before = build_prompt(lead=lead(), template=prompt_template_live(intent="hot", channel="email"), snippets=[])
    assert "Northwind Web Studio" in before.system and "Be warm, specific and brief." in before.system
    answer = admin_client.post("/admin/bizpilot/businessprofile/add/", PROFILE)
    assert answer.status_code == 302
    assert BusinessProfile.objects.get().name == "Flow Right Plumbing"
    audit = AuditEvent.objects.get(action="business_profile.change")
    assert audit.before["name"] == "Northwind Web Studio" and audit.after["tone"] == "formal"

    assert business().email_domain == "flowright.example"
    prompt = build_prompt(lead=lead(), template=prompt_template_live(intent="hot", channel="email"), snippets=[])
    assert "for Flow Right Plumbing. The sender is Dan. Be courteous and formal" in prompt.system
    assert "In English, write British English." in prompt.system and "boiler servicing" in prompt.system
    assert "Leeds and 20 miles around" in prompt.system and "Sat 9:00-13:00" in prompt.system
    template = prompt_template_live(intent="hot", channel="email")
    template.fallback_body = "Hi {{ first_name }},\n\nThanks for getting in touch.\n\n{{ signature }}"
    _, body = render_fallback(lead(), template, snippets=[])
    assert body.endswith("Dan Harper\nFlow Right Plumbing · 0113 496 0000")


def test_a_wrong_profile_names_each_field_and_keeps_the_one_in_effect(admin_client):
    bad = {**PROFILE, "name": " ", "from_email": "not an address", "tone": "shouty"}
    page = admin_client.post("/admin/bizpilot/businessprofile/add/", bad).content.decode()
    assert "This field is required." in page and "An address such as" in page and "shouty" in page
    assert not BusinessProfile.objects.exists() and business().name == "Northwind Web Studio"


def test_the_time_zone_is_chosen_from_the_list_and_a_wrong_one_is_refused(admin_client):
    form = admin_client.get("/admin/bizpilot/businessprofile/add/").content.decode()
    assert '<select name="time_zone"' in form and '<option value="America/New_York">' in form
    assert '<option value="Europe/London" selected>' in form  # the environment's, until the profile is saved
    page = admin_client.post("/admin/bizpilot/businessprofile/add/", {**PROFILE, "time_zone": "Mars/Olympus"})
    assert "Select a valid choice" in page.content.decode() and not BusinessProfile.objects.exists()
    with pytest.raises(ValidationFailed) as refused:
        business_save(values={"time_zone": "Mars/Olympus"}, actor="t")
    assert "is not a time zone name" in refused.value.fields["time_zone"][0]
    saved = admin_client.post("/admin/bizpilot/businessprofile/add/", {**PROFILE, "time_zone": "Asia/Tokyo"})
    assert saved.status_code == 302
    assert business().time_zone == "Asia/Tokyo" and AuditEvent.objects.get().after["time_zone"] == "Asia/Tokyo"
    page = admin_client.get("/admin/messaging/autosendpolicy/add/").content.decode()
    assert "Times are on your business's clock, <strong>Asia/Tokyo</strong>" in page


def test_pages_show_the_business_clock_the_api_keeps_utc_and_the_export_counts_the_business_days(admin_client, api):
    business_save(values={"time_zone": "Asia/Tokyo"}, actor="t")  # 9 hours ahead of the server's UTC
    lead = submit_lead(name="Ruth Okafor", email="ruth@example.com")
    at = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 08:30 on 5 December in Tokyo
    Lead.objects.filter(pk=lead.pk).update(created_at=at)
    InboundMessage.objects.filter(lead=lead).update(received_at=at)

    page = admin_client.get(f"/admin/messaging/conversation/{lead.pk}/change/").content.decode()
    assert "2026-12-05 08:30" in page and "2026-12-04 23:30" not in page
    assert api.get(f"/api/leads/{lead.pk}/").json()["created_at"] == "2026-12-04T23:30:00Z"

    def exported(**query: str) -> list[str]:
        text = b"".join(api.get("/api/leads/export.csv", query).streaming_content).decode()
        return [row["id"] for row in csv.DictReader(io.StringIO(text))]

    assert exported(created_after="2026-12-05", created_before="2026-12-05") == [str(lead.pk)]
    assert exported(created_before="2026-12-04") == []  # the server's day, not the business's


def test_a_meeting_written_by_a_worker_reads_on_the_business_clock():
    business_save(values={"time_zone": "America/New_York"}, actor="t")
    start = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    meeting = Meeting(starts_at=start, ends_at=start + timedelta(minutes=30), source=Meeting.Source.BIZPILOT)
    assert meeting_line(meeting).endswith("Tue 08 Dec 2026 10:00 to 10:30 EST")  # no request: no active zone


def test_any_english_can_be_chosen_and_a_lead_in_another_language_is_still_answered_in_theirs(admin_client):
    form = admin_client.get("/admin/bizpilot/businessprofile/add/").content.decode()
    assert '<option value="australian">Australian English</option>' in form and "Indian English" in form
    business_save(values={"english": "australian"}, actor="t")
    template = prompt_template_live(intent="hot", channel="email")
    assert "In English, write Australian English." in build_prompt(lead=lead(), template=template, snippets=[]).system
    spanish = LeadFacts(
        lead_id=None, name="Ana", company="", channel="email", subject="", message="¡Hola!", language="Spanish"
    )
    prompt = build_prompt(lead=spanish, template=template, snippets=[])
    assert "write the whole reply in Spanish" in prompt.user and "In English, write Australian" in prompt.system
    with pytest.raises(ValidationFailed):
        business_save(values={"english": "martian"}, actor="t")
