"""The business profile is data: saved in the admin (audited), it is who every reply comes from: the fallback
draft's sign-off, the LLM's instructions (what it sells, where, when, the tone), the email's From address."""

from __future__ import annotations

import pytest

from bizpilot.business import business
from bizpilot.models import AuditEvent, BusinessProfile
from intelligence.prompt_templates import prompt_template_live
from intelligence.prompts import LeadFacts, build_prompt, render_fallback

pytestmark = pytest.mark.django_db
PROFILE = {
    "name": "Flow Right Plumbing",
    "sender_name": "Dan",
    "from_email": "Flow Right Plumbing <hello@flowright.example>",
    "offering": "plumbing repairs, boiler servicing and bathroom fitting",
    "area": "Leeds and 20 miles around",
    "opening_hours": "Mon-Fri 8:00-18:00, Sat 9:00-13:00",
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
    assert "Write British English." in prompt.system and "boiler servicing" in prompt.system
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
