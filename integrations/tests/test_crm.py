"""HubSpot (through the official `hubspot-api-client`) and Pipedrive (its REST API), against local stubs that speak
their wire formats: a classified lead becomes a contact, a deal in its intent's stage and a note with the
conversation; 429 waits for Retry-After; an expired token is renewed, or the connection pauses and a person is told,
with nothing lost; a deal won in the CRM comes back as the lead's conversion through its verified webhook."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from hubspot.utils.signature import Signature

from integrations import crm
from integrations.crm import crm_lead_changed, crm_sync_due
from integrations.models import CrmConnection, CrmLink
from integrations.tests.crm_stubs import HubSpotStub, PipedriveStub
from leads.models import InboundMessage, Lead

pytestmark = pytest.mark.django_db
HOT = "We need a new website for our salon next month, budget approved, can we start this week?"


@pytest.fixture
def hubspot():
    stub = HubSpotStub()
    stub.connection = CrmConnection.objects.create(
        kind="hubspot",
        api_base=stub.url,
        access_token="token-1",
        client_secret="app-secret",
        deal_stages={"hot": "qualifiedtobuy", "warm": "appointmentscheduled", "cold": ""},
    )
    yield stub
    stub.stop()


@pytest.fixture
def pipedrive():
    stub = PipedriveStub()
    stub.connection = CrmConnection.objects.create(
        kind="pipedrive",
        api_base=stub.url,
        access_token="pd-token",
        deal_stages={"hot": "3", "warm": "1", "cold": ""},
        webhook_user="bizpilot",
        webhook_password="s3cret-pass",
    )
    yield stub
    stub.stop()


def classified_lead(intent="hot", *, email="priya@ramansalon.example", state="drafted") -> Lead:
    lead = Lead.objects.create(
        name="Priya Raman",
        email=email,
        phone="+447700900777",
        company="Raman Salon",
        intent=intent,
        intent_confidence=0.91,
        state=state,
    )
    InboundMessage.objects.create(lead=lead, body=HOT, channel="api")
    crm_lead_changed(lead_id=lead.pk, classified=True)
    return lead


def test_a_hot_lead_through_the_api_becomes_a_hubspot_contact_deal_and_note(
    api, demo_knowledge, hubspot, django_capture_on_commit_callbacks
):
    body = {"name": "Priya Raman", "email": "priya@ramansalon.example", "phone": "+447700900777", "message": HOT}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/leads/", body, format="json").status_code == 202
    crm_sync_due()
    (contact,) = hubspot.of("contacts").values()
    assert contact["properties"] == {
        "email": "priya@ramansalon.example",
        "firstname": "Priya",
        "lastname": "Raman",
        "phone": "+447700900777",
        "lifecyclestage": "salesqualifiedlead",
    }
    (deal,) = hubspot.of("deals").values()
    assert deal["properties"]["dealstage"] == "qualifiedtobuy" and deal["properties"]["pipeline"] == "default"
    assert deal["associations"][0]["to"]["id"] == contact["id"]
    assert deal["associations"][0]["types"][0]["associationTypeId"] == 3
    (note,) = hubspot.of("notes").values()
    assert "budget approved" in note["properties"]["hs_note_body"] and "hot" in note["properties"]["hs_note_body"]
    assert {a["to"]["id"] for a in note["associations"]} == {contact["id"], deal["id"]}
    link = CrmLink.objects.get()
    assert (link.contact_id, link.deal_id, link.note_id) == (contact["id"], deal["id"], note["id"])
    assert not link.pending and link.last_error == "" and link.synced_intent == "hot"
    assert all(path.startswith("/crm/v3/objects/") for _, path, _ in hubspot.requests)


def test_an_existing_contact_is_updated_a_second_sync_makes_nothing_new_and_only_an_intent_change_moves_the_deal(
    hubspot,
):
    hubspot.of("contacts")["77"] = {"id": "77", "properties": {"email": "priya@ramansalon.example"}}
    lead = classified_lead("warm")
    crm_sync_due()
    assert set(hubspot.of("contacts")) == {"77"}  # found by email, not copied
    assert hubspot.of("contacts")["77"]["properties"]["lifecyclestage"] == "marketingqualifiedlead"
    (deal,) = hubspot.of("deals").values()
    assert deal["properties"]["dealstage"] == "appointmentscheduled"

    deal["properties"]["dealstage"] = "presentationscheduled"  # someone moved it in HubSpot
    InboundMessage.objects.create(lead=lead, body="Thanks, and could you also do the booking page?", channel="email")
    crm_lead_changed(lead_id=lead.pk)
    crm_sync_due()
    assert len(hubspot.of("deals")) == 1 and deal["properties"]["dealstage"] == "presentationscheduled"
    (note,) = hubspot.of("notes").values()  # the same note, now with the reply
    assert "booking page" in note["properties"]["hs_note_body"]

    Lead.objects.filter(pk=lead.pk).update(intent="hot")
    crm_lead_changed(lead_id=lead.pk)
    crm_sync_due()
    assert deal["properties"]["dealstage"] == "qualifiedtobuy"
    assert (len(hubspot.of("contacts")), len(hubspot.of("deals")), len(hubspot.of("notes"))) == (1, 1, 1)


def test_a_cold_lead_gets_a_contact_and_a_note_but_no_deal_and_an_unclassified_lead_is_not_sent(hubspot):
    classified_lead("cold")
    unclassified = Lead.objects.create(name="Sam", email="sam@example.com")
    crm_lead_changed(lead_id=unclassified.pk)
    crm_sync_due()
    assert len(hubspot.of("contacts")) == 1 and hubspot.of("deals") == {} and len(hubspot.of("notes")) == 1
    assert not CrmLink.objects.filter(lead=unclassified).exists()


def test_a_429_waits_for_retry_after_for_the_whole_connection_then_sends_once(hubspot):
    hubspot.rate_limit_next, hubspot.retry_after = 1, "20"
    first, second = classified_lead(), classified_lead(email="tom@example.com")
    start = timezone.now()
    assert crm_sync_due(now=start) == 1  # the second lead waits with the first: the CRM asked the connection to
    connection = CrmConnection.objects.get()
    assert connection.rate_limited_until == start + timedelta(seconds=20)
    assert (
        CrmLink.objects.filter(pending=True).count() == 2
        and "rate limited" in CrmLink.objects.get(lead=first).last_error
    )
    calls = len(hubspot.requests)
    assert crm_sync_due(now=start + timedelta(seconds=10)) == 0 and len(hubspot.requests) == calls
    assert crm_sync_due(now=start + timedelta(seconds=21)) == 2
    assert len(hubspot.of("contacts")) == 2 and len(hubspot.of("deals")) == 2
    assert not CrmLink.objects.filter(pending=True).exists() and second.crm_links.get().last_error == ""


def test_an_expired_oauth_token_is_renewed_with_the_refresh_token_and_the_call_made_again(hubspot):
    CrmConnection.objects.update(refresh_token="refresh-1", client_id="client-1")
    hubspot.token_expired = True
    classified_lead()
    crm_sync_due()
    connection = CrmConnection.objects.get()
    assert connection.access_token == "token-1x" and connection.token_expires_at > timezone.now()
    assert hubspot.calls("POST", "/oauth/v1/token")[0]["grant_type"] == "refresh_token"
    assert len(hubspot.of("contacts")) == 1 and not CrmLink.objects.get().pending


def test_a_token_that_cannot_be_renewed_pauses_the_connection_tells_the_admins_and_loses_nothing(
    hubspot, admin_client, django_capture_on_commit_callbacks
):
    hubspot.token_expired = True
    with django_capture_on_commit_callbacks(execute=True):
        classified_lead()
        crm_sync_due()
    connection = CrmConnection.objects.get()
    assert connection.status == "token_expired" and "expired" in connection.status_detail
    assert CrmLink.objects.get().pending and hubspot.of("contacts") == {}
    (notice,) = mail.outbox
    assert "paused" in notice.subject and "Nothing is lost" in notice.body
    calls = len(hubspot.requests)
    assert crm_sync_due(now=timezone.now() + timedelta(hours=1)) == 0 and len(hubspot.requests) == calls

    page = admin_client.get(f"/admin/integrations/crmconnection/{connection.pk}/change/").content.decode()
    assert "Hot lead → deal stage" in page and 'value="qualifiedtobuy"' in page
    assert "token-1" not in page and "app-secret" not in page  # secrets are write-only
    assert "Set. Leave empty to keep it" in page
    listing = admin_client.get("/admin/integrations/crmconnection/").content.decode()
    assert "Paused: the access token expired" in listing
    assert admin_client.get("/admin/integrations/crmconnection/add/").status_code == 200

    hubspot.token, hubspot.token_expired = "token-2", False
    form = admin_form(connection, access_token="token-2")
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(f"/admin/integrations/crmconnection/{connection.pk}/change/", form)
    assert answer.status_code == 302
    connection.refresh_from_db()
    assert connection.status == "ok" and connection.access_token == "token-2"
    assert connection.client_secret == "app-secret"  # a secret left empty in the form keeps its value
    assert len(hubspot.of("contacts")) == 1 and not CrmLink.objects.get().pending


def admin_form(connection: CrmConnection, **changes) -> dict:
    form = {
        "kind": connection.kind,
        "is_active": "on",
        "api_base": connection.api_base,
        "pipeline": connection.pipeline,
        "add_note": "on",
        "webhook_user": connection.webhook_user,
        "won_stages_text": "closedwon",
        "lost_stages_text": "closedlost",
    }
    for kind in ("contact", "deal"):
        for intent, stage in getattr(connection, f"{kind}_stages").items():
            form[f"{intent}_{kind}_stage"] = stage
    return {**form, **changes}


def test_a_refusal_is_kept_on_the_lead_for_a_person_and_sync_again_sends_it(hubspot, admin_client):
    CrmConnection.objects.update(deal_stages={"hot": "no-such-stage"})
    lead = classified_lead()
    with mock.patch.object(hubspot, "answer", wraps=hubspot.answer) as answer:
        answer.side_effect = lambda m, p, q, b, h: (
            (400, {"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"}, {})
            if p == "/crm/v3/objects/deals" and b["properties"]["dealstage"] == "no-such-stage"
            else HubSpotStub.answer(hubspot, m, p, q, b, h)
        )
        crm_sync_due()
    link = CrmLink.objects.get()
    assert not link.pending and "HubSpot refused it: 400" in link.last_error and "not valid" in link.last_error
    assert link.contact_id  # what was made is kept: the contact is not made again
    CrmConnection.objects.update(deal_stages={"hot": "qualifiedtobuy"})
    answer = admin_client.post(
        "/admin/integrations/crmlink/", {"action": "sync_again", "_selected_action": [link.pk]}, follow=True
    )
    assert "1 lead(s) queued" in answer.content.decode()
    crm_sync_due()
    link.refresh_from_db()
    assert not link.pending and link.last_error == "" and link.deal_id and len(hubspot.of("contacts")) == 1
    assert lead.crm_links.count() == 1


def test_a_change_made_while_a_sync_runs_is_sent_by_the_next_one(hubspot):
    lead = classified_lead()
    real_note, wrote = crm.conversation_note, []

    def note_while_the_lead_writes_again(lead_arg):
        text = real_note(lead_arg)
        if not wrote:  # once, during the first sync
            wrote.append(InboundMessage.objects.create(lead=lead, body="PS: we also need a logo.", channel="email"))
            crm_lead_changed(lead_id=lead.pk)
        return text

    with mock.patch.object(crm, "conversation_note", side_effect=note_while_the_lead_writes_again):
        link = crm.crm_link_sync(link_id=CrmLink.objects.get().pk)
    assert link.pending and link.changes == 2 and link.synced_changes == 1  # the change during the sync waits
    crm_sync_due()
    (note,) = hubspot.of("notes").values()
    assert "also need a logo" in note["properties"]["hs_note_body"] and not CrmLink.objects.get().pending


def test_pipedrive_gets_a_person_a_deal_in_the_stage_and_a_note_through_its_rest_api(pipedrive):
    pipedrive.rate_limit_next = 1
    classified_lead()
    start = timezone.now()
    crm_sync_due(now=start)
    assert pipedrive.of("persons") == {} and CrmConnection.objects.get().rate_limited_until is not None
    crm_sync_due(now=start + timedelta(seconds=3))
    (person,) = pipedrive.of("persons").values()
    assert person["name"] == "Priya Raman"
    assert person["email"] == [{"value": "priya@ramansalon.example", "primary": True, "label": "work"}]
    (deal,) = pipedrive.of("deals").values()
    assert (deal["stage_id"], deal["person_id"], deal["title"]) == (3, person["id"], "Priya Raman (Raman Salon)")
    (note,) = pipedrive.of("notes").values()
    assert note["deal_id"] == deal["id"] and "budget approved" in note["content"]


def test_pipedrive_oauth_renews_its_token_with_basic_client_credentials(pipedrive):
    CrmConnection.objects.update(
        access_token="token-1", refresh_token="refresh-1", client_id="client-1", client_secret="app-secret"
    )
    pipedrive.api_token, pipedrive.token_expired = "", True
    classified_lead()
    crm_sync_due()
    assert CrmConnection.objects.get().access_token == "token-1x" and len(pipedrive.of("persons")) == 1


def hubspot_post(client, events, *, secret="app-secret", age_seconds=0):
    body = json.dumps(events)
    timestamp = str(int((time.time() - age_seconds) * 1000))
    uri = settings.PUBLIC_BASE_URL + "/webhooks/hubspot/"
    signature = Signature.get_signature(secret, body, "v3", uri, "POST", timestamp)
    return client.post(
        "/webhooks/hubspot/",
        body,
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
    )


def won_event(deal_id: str, stage: str = "closedwon") -> dict:
    return {
        "eventId": 100,
        "subscriptionId": 5,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": int(deal_id),
        "propertyName": "dealstage",
        "propertyValue": stage,
        "changeSource": "CRM_UI",
    }


def test_a_deal_won_in_hubspot_converts_its_lead_through_the_signed_webhook(client, hubspot):
    lead = classified_lead()
    crm_sync_due()
    deal_id = CrmLink.objects.get().deal_id
    assert hubspot_post(client, [won_event(deal_id)], secret="forged").status_code == 403
    assert hubspot_post(client, [won_event(deal_id)], age_seconds=600).status_code == 403  # a replay
    unsigned = client.post("/webhooks/hubspot/", json.dumps([won_event(deal_id)]), content_type="application/json")
    assert unsigned.status_code == 403
    lead.refresh_from_db()
    assert lead.state == "drafted"
    answer = hubspot_post(client, [won_event("999"), won_event(deal_id)])
    assert answer.status_code == 200
    assert answer.json()["results"][1] == {"deal": deal_id, "lead": lead.pk, "result": "converted"}
    lead.refresh_from_db()
    assert lead.state == "converted" and lead.converted_at is not None
    assert hubspot_post(client, [won_event(deal_id)]).json()["results"][0]["result"] == "converted"  # idempotent
    assert hubspot_post(client, {"not": "a list"}).status_code == 400


def pipedrive_post(client, payload, *, password="s3cret-pass"):
    credentials = base64.b64encode(f"bizpilot:{password}".encode()).decode()
    return client.post(
        "/webhooks/pipedrive/",
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Basic {credentials}"},
    )


def test_a_deal_won_or_lost_in_pipedrive_comes_back_through_its_authenticated_webhook(client, pipedrive):
    won_lead, lost_lead = classified_lead(), classified_lead(email="tom@example.com", state="contacted")
    crm_sync_due()
    won_deal, lost_deal = (CrmLink.objects.get(lead=lead).deal_id for lead in (won_lead, lost_lead))
    v2 = {
        "meta": {"action": "change", "entity": "deal", "entity_id": won_deal, "version": "2.0"},
        "data": {"id": int(won_deal), "status": "won", "stage_id": 3},
        "previous": {"status": "open"},
    }
    assert pipedrive_post(client, v2, password="guess").status_code == 403
    assert client.post("/webhooks/pipedrive/", json.dumps(v2), content_type="application/json").status_code == 403
    won_lead.refresh_from_db()
    assert won_lead.state == "drafted"
    assert pipedrive_post(client, v2).json()["results"][0]["result"] == "converted"
    v1 = {
        "meta": {"action": "updated", "object": "deal", "id": int(lost_deal), "v": 1},
        "current": {"id": int(lost_deal), "status": "lost"},
        "previous": {"id": int(lost_deal), "status": "open"},
    }
    assert pipedrive_post(client, v1).json()["results"][0]["result"] == "lost"
    won_lead.refresh_from_db()
    lost_lead.refresh_from_db()
    assert (won_lead.state, lost_lead.state) == ("converted", "lost")
    assert pipedrive_post(client, {"no": "meta"}).status_code == 400
