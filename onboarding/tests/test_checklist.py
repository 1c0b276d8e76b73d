"""The checklist on the admin home: what is set up, what is missing, and what each missing piece costs; each item
turns done when its piece is set up, and the page costs a fixed number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.models import AlertRecipient
from intelligence.knowledge import knowledge_document_store
from leads.models import Lead, SiteForm
from meetings.availability import demo_availability_ensure

pytestmark = pytest.mark.django_db


def checklist(admin_client) -> dict[str, str]:
    page = admin_client.get("/admin/").content.decode()
    section = page[page.index('id="bp-checklist"') :]
    items = re.findall(r'<li class="bp-(done|missing)" data-item="(\w+)">', section)
    return {key: state for state, key in items}


def test_a_new_install_sees_what_is_missing_and_what_it_costs(admin_client, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    page = admin_client.get("/admin/").content.decode()
    assert "Setup: 12 things BizPilot needs" in page
    assert "No LLM key: replies use the fallback templates" in page
    assert "Replies cannot quote your prices, hours or services" in page
    assert "Email replies are printed to the server&#x27;s console, not sent" in page
    assert "Nobody is alerted: hot leads wait until someone looks" in page
    assert 'href="/admin/intelligence/knowledgeimport/add/"' in page  # where to fix it
    assert set(checklist(admin_client).values()) == {"missing"}
    assert 'id="bp-first-run"' in page and 'href="/admin/setup/"' in page  # a new install is led to the setup


def test_each_item_is_done_once_its_piece_is_set_up(admin_client, settings):
    settings.BUSINESS_NAME, settings.BUSINESS_SENDER_NAME = "Flow Right Plumbing", "Dan"
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "user:pass"}
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC123", "token"
    settings.PUBLIC_BASE_URL = "https://leads.flowright.example"
    knowledge_document_store(source_path="test:prices", title="Prices", kind="doc", content="# Callout\n\n£95.")
    Lead.objects.create(name="Sam", email="sam@example.com")
    AlertRecipient.objects.create(name="Dan", email="dan@flowright.example", channels=["email"], intents=["hot"])
    demo_availability_ensure()
    SiteForm.objects.create(allowed_origins="https://flowright.example")
    states = checklist(admin_client)
    assert states == {key: "done" for key in states} | {"auto_send": "missing"}
    page = admin_client.get("/admin/").content.decode()
    assert 'id="bp-first-run"' not in page  # set up: the setup stays a link above the checklist
    assert "Replies are signed Dan, Flow Right Plumbing" in page and "1 document in the knowledge base" in page
    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/")
    from django.contrib import admin

    from bizpilot.admin import SettingsRowAdmin

    rows = sum(isinstance(model_admin, SettingsRowAdmin) for model_admin in admin.site._registry.values())
    # The session, the user, whether each settings row exists (once per request), and nine for the checklist.
    assert len(queries) <= 2 + rows + 9
