"""Settings as one JSON file: what one install is set to comes out whole (no secrets) and goes into another as it
was; a file with a problem changes nothing and names the problem; the same file twice changes nothing more."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from bizpilot.business import business, business_forget, business_save
from bizpilot.errors import ValidationFailed
from bizpilot.models import BusinessProfile
from intelligence.examples import intent_examples_add
from intelligence.knowledge import knowledge_document_store
from intelligence.models import IntentExample, KnowledgeDocument, PromptTemplate
from intelligence.prompt_templates import prompt_template_live, prompt_template_save
from leads.models import SiteForm
from meetings.availability import availability_save
from meetings.models import Availability, DayOff
from messaging.autosend import auto_send_policy_save
from messaging.models import AutoSendPolicy, Sequence, SequenceStep
from onboarding.settings_transfer import settings_import

pytestmark = pytest.mark.django_db


def configure() -> None:
    business_save(
        values={
            "name": "Flow Right Plumbing",
            "sender_name": "Dan",
            "from_email": "hi@flowright.example",
            "tone": "formal",
            "english": "british",
            "time_zone": "Europe/Dublin",
        },
        actor="t",
    )
    auto_send_policy_save(values={"enabled": True, "threshold": 0.9, "reply_kinds": []}, actor="t")
    availability_save(
        values={
            "monday": "08:00-12:00",
            "meeting_minutes": 45,
            "slots_offered": 3,
            "max_per_day": 6,
            "caldav_password": "s3cret",
        },
        actor="t",
    )
    DayOff.objects.create(date=date(2026, 12, 25), note="Christmas")
    live = prompt_template_live(intent="hot", channel="email")
    prompt_template_save(
        intent="hot",
        channel_kind="email",
        instructions="Quote the callout price first.",
        max_chars=live.max_chars,
        fallback_subject=live.fallback_subject,
        fallback_body=live.fallback_body,
        actor="t",
    )
    Sequence.objects.filter(intent="hot").update(active=False)
    sequence = Sequence.objects.create(name="Plumbing hot", intent="hot")
    SequenceStep.objects.create(
        sequence=sequence,
        position=1,
        delay=timedelta(days=2),
        instructions="Check in.",
        fallback_body="Hi {{ first_name }}, still need that leak fixed?",
    )
    SiteForm.objects.create(
        allowed_origins="https://flowright.example",
        captcha="turnstile",
        captcha_site_key="k",
        captcha_secret="form-secret",
    )
    intent_examples_add(examples=[("Boiler broken, come today please", "hot")], origin="pack")
    knowledge_document_store(
        source_path="import:upload:prices.pdf#page 1",
        title="Prices",
        kind="doc",
        content="# Callout\n\nAn emergency callout is £95.",
    )


def wipe() -> None:
    IntentExample.objects.filter(origin="pack").delete()
    for model in (BusinessProfile, AutoSendPolicy, Availability, DayOff, Sequence, KnowledgeDocument, SiteForm):
        model.objects.all().delete()
    PromptTemplate.objects.filter(change_note__in=["", "imported"], instructions__startswith="Quote").delete()
    business_forget()  # (rows deleted behind the process's back, as a fresh install would have none)


def test_a_configured_install_exports_everything_but_secrets_and_another_imports_it_whole(tmp_path):
    configure()
    path = tmp_path / "settings.json"
    call_command("export_settings", str(path))
    text = path.read_text()
    exported = json.loads(text)
    assert "s3cret" not in text and "caldav_password" not in exported["availability"]
    assert "form-secret" not in text and exported["site_form"]["allowed_origins"] == "https://flowright.example"
    assert exported["business"]["name"] == "Flow Right Plumbing" and exported["auto_send"]["threshold"] == 0.9

    wipe()
    assert business().name == "Northwind Web Studio" and not KnowledgeDocument.objects.exists()
    call_command("import_settings", str(path))
    assert business().name == "Flow Right Plumbing" and business().tone == "formal"
    assert business().time_zone == "Europe/Dublin"
    assert AutoSendPolicy.current().enabled and AutoSendPolicy.current().threshold == 0.9
    assert Availability.objects.get().monday == "08:00-12:00" and DayOff.objects.get().note == "Christmas"
    assert prompt_template_live(intent="hot", channel="email").instructions == "Quote the callout price first."
    assert Sequence.objects.get(intent="hot", active=True).name == "Plumbing hot"
    step = Sequence.objects.get(name="Plumbing hot").steps.get()
    assert step.delay == timedelta(days=2) and "leak" in step.fallback_body
    assert KnowledgeDocument.objects.get().chunks.get().embedding is not None  # embedded again here
    site = SiteForm.objects.get()
    assert (site.captcha_site_key, site.captcha, site.captcha_secret) == ("k", "", "")  # off until its secret is set
    assert IntentExample.objects.get(origin="pack").text == "Boiler broken, come today please"
    again = json.loads(export_text())
    again["site_form"]["captcha"] = exported["site_form"]["captcha"]  # (off here until its secret is set)
    assert settings_json_without_time(exported) == settings_json_without_time(again)

    versions = PromptTemplate.objects.count()
    call_command("import_settings", str(path))  # the same file again: nothing more
    assert PromptTemplate.objects.count() == versions and KnowledgeDocument.objects.count() == 1


def export_text() -> str:
    from onboarding.settings_transfer import settings_export

    return json.dumps(settings_export())


def settings_json_without_time(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "exported_at"}


def test_a_file_with_a_problem_changes_nothing_and_names_each_problem(admin_client):
    configure()
    exported = json.loads(export_text())
    exported["business"]["name"] = "Somebody Else"
    exported["auto_send"]["threshold"] = 7
    page = admin_client.post(
        "/admin/settings/",
        {"file": SimpleUploadedFile("s.json", json.dumps(exported).encode(), content_type="application/json")},
    ).content.decode()
    assert "Nothing was changed." in page and "auto_send.threshold: Must be a number from 0 to 1." in page
    assert business().name == "Flow Right Plumbing"  # the business section, applied first, was rolled back
    junk = admin_client.post("/admin/settings/", {"file": SimpleUploadedFile("s.json", b"[1, 2]")}).content.decode()
    assert "format: Expected" in junk


def test_the_admin_downloads_the_file_and_imports_it(admin_client):
    configure()
    download = admin_client.get("/admin/settings/?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="bizpilot-settings.json"'
    wipe()
    page = admin_client.post(
        "/admin/settings/", {"file": SimpleUploadedFile("s.json", download.content, content_type="application/json")}
    ).content.decode()
    imported = page[page.index('id="bp-settings-imported"') :].split("</p>")[0]
    assert f"{Sequence.objects.count()} sequences" in imported and "1 knowledge" in imported
    assert business().name == "Flow Right Plumbing"


def test_the_time_zone_travels_with_the_business_and_a_file_from_before_keeps_its_own():
    configure()
    exported = json.loads(export_text())
    assert exported["business"]["time_zone"] == "Europe/Dublin"
    assert "time_zone" not in exported["auto_send"] and "time_zone" not in exported["availability"]

    wrong = {**exported, "business": {**exported["business"], "time_zone": "Mars/Olympus"}}
    with pytest.raises(ValidationFailed) as refused:
        settings_import(data=wrong, actor="t")
    assert list(refused.value.fields) == ["business.time_zone"]

    wipe()
    older = {**exported, "business": {k: v for k, v in exported["business"].items() if k != "time_zone"}}
    older["availability"] = {**exported["availability"], "time_zone": "America/Chicago"}  # where it was kept then
    settings_import(data=older, actor="t")
    assert business().time_zone == "America/Chicago"
