"""Try it: a pasted message is classified, its facts retrieved and its reply drafted exactly as a real lead's, and
nothing is kept, queued or sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django_q.models import OrmQ

from intelligence.models import Classification, ModelCall
from leads.models import InboundMessage, Lead
from messaging.models import Message

pytestmark = pytest.mark.django_db
HOT = "We need a new website for our salon next month, budget approved, can we start this week? What does it cost?"


def counts() -> tuple[int, ...]:
    models = (Lead, InboundMessage, Classification, Message, ModelCall, OrmQ)
    return tuple(model.objects.count() for model in models)


def test_a_pasted_message_is_classified_and_drafted_and_nothing_is_kept(admin_client, demo_knowledge):
    before = counts()
    page = admin_client.post("/admin/try/", {"name": "Priya", "message": HOT}).content.decode()
    intent = page[page.index('id="bp-try-intent"') :]
    assert intent.split("</dd>")[0].count("hot") == 1 and "confidence, decided by" in intent
    facts = page[page.index('id="bp-try-facts"') :].split("</ol>")[0]
    assert facts.count("<li>") >= 1 and "None close enough" not in facts
    draft = page[page.index('id="bp-try-draft"') :].split("</dd>")[0]
    assert "Priya" in draft  # the reply as the lead would get it, greeting them by name
    assert counts() == before  # no lead, message, classification, draft, model call or job kept
    assert mail.outbox == []


def test_an_empty_message_says_what_is_needed_and_an_operator_may_use_it_but_not_a_stranger(client, admin_client):
    page = admin_client.post("/admin/try/", {"message": "   "}).content.decode()
    assert "Paste a lead&#x27;s message." in page
    assert client.get("/admin/try/").status_code == 302  # to the login page
    home = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/try/"' in home
