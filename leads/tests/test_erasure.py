"""GDPR: a person with a full history (a lead by API with an Idempotency-Key, a text from their phone, an LLM
draft edited and sent, tracking events, an operator's correction, a follow-up sequence, an SMS STOP, a CSV import
that names them, the admin's history) is exported whole, then erased; afterwards the whole database (every table,
the job queue's pickled arguments and results) and the stored CSV files are searched for their email, phone, name
and words, and nothing is found, while the anonymous counts survive."""

from __future__ import annotations

import base64
import pickle

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from intelligence.corrections import lead_correct_intent
from intelligence.models import IntentExample, ModelCall, VoiceExample
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.models import Lead, LeadImport
from messaging.events import delivery_event_record
from messaging.inbound import inbound_text_receive
from messaging.models import Message, Sequence, SequenceStep, Suppression
from messaging.review import message_approve
from messaging.sequence_defaults import seed_default_sequences
from messaging.suppression import is_suppressed

EMAIL, PHONE, NAME = "zara.quinlan@tiles.example", "+447700900555", "Zara Quinlan"
WORDS = "azure zellige tiles"  # the person's own words, which must go too
MESSAGE = f"Hi, I'm {NAME} from Quinlan Tiles. We need an online shop for our {WORDS} this month, budget ready."
OTHER = "other.person@shop.example"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def person(api, admin_client, anthropic_stub, demo_knowledge, media, django_capture_on_commit_callbacks):
    """Everything a real person leaves behind, made through the product's own doors."""
    seed_default_sequences(Sequence, SequenceStep)
    reply = {"subject": "Your shop", "body": "Hi [FIRST_NAME],\n\nHappy to build it.", "confidence": 0.9}
    anthropic_stub.queue(StubResponse(200, tool_use_message(reply)))
    body = {"name": NAME, "email": EMAIL, "phone": PHONE, "company": "Quinlan Tiles", "message": MESSAGE}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="form-77")
    assert created.status_code == 202
    lead = Lead.objects.get(pk=created.json()["id"])
    draft = Message.objects.get(lead=lead)
    assert draft.generated_by == "llm"
    with django_capture_on_commit_callbacks(execute=True):  # approved with an edit: sent, and learned as the voice
        message_approve(message_id=draft.pk, actor="user:op", body=draft.body + f"\n\nP.S. {NAME}, call us.")
    draft.refresh_from_db()
    assert draft.status == Message.Status.SENT and VoiceExample.objects.filter(message_id=draft.pk).exists()
    delivery_event_record(
        message=draft,
        event_type="opened",
        provider="sendgrid",
        provider_event_id="ev-9",
        occurred_at=None,
        payload={"email": EMAIL, "useragent": "Mozilla/5.0"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbound_text_receive(
            channel="sms",
            sender=PHONE,
            body=f"Also {WORDS} samples?",
            provider_message_id="SMq1",
            name=NAME,
            raw_payload={"From": PHONE, "Body": f"Also {WORDS} samples?"},
        )
    lead_correct_intent(lead_id=lead.pk, intent="hot", actor="user:op")
    assert IntentExample.objects.filter(source_lead=lead).exists()
    inbound_text_receive(channel="sms", sender=PHONE, body="STOP", provider_message_id="SMq2", name="", raw_payload={})
    assert is_suppressed(PHONE) is not None
    csv = f"Name,Email,Message\n{NAME},{EMAIL},{WORDS}\nOther Person,{OTHER},hello\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/leads/leadimport/add/",
            {
                "file": SimpleUploadedFile("expo.csv", csv, content_type="text/csv"),
                "source": "expo",
                "column_map": "{}",
            },
        )
    admin_client.post(  # an operator edits the lead in the admin: Django's history names it
        f"/admin/leads/lead/{lead.pk}/change/",
        {
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "company": "Quinlan Tiles",
            "source": "api",
            "preferred_channel": "email",
            "metadata": "{}",
            "inbound_messages-TOTAL_FORMS": "0",
            "inbound_messages-INITIAL_FORMS": "0",
        },
    )
    return lead


def traces(needles: list[str]) -> dict[str, list[str]]:
    """Every table (each row as text) and the job queue's pickled arguments and results, searched."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{table}" t')
            for (row,) in cursor.fetchall():
                hits = [n for n in needles if n.lower() in row.lower()]
                if hits:
                    found.setdefault(table, []).append(f"{hits}: {row[:200]}")
        for table in ("django_q_task", "django_q_ormq"):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                text = " ".join(_unpickled(value) for value in row).lower()
                hits = [n for n in needles if n.lower() in text]
                if hits:
                    found.setdefault(f"{table} (unpickled)", []).append(str(hits))
    return found


def _unpickled(value) -> str:
    try:
        return repr(pickle.loads(base64.b64decode(value) if isinstance(value, str) else value))
    except Exception:
        return str(value)


def test_the_export_holds_everything_about_the_person(api, person):
    response = api.get(f"/api/leads/{person.pk}/export/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    export = response.json()
    assert [lead["email"] for lead in export["leads"]] == [EMAIL]
    assert any(WORDS in inbound["body"] for inbound in export["inbound_messages"])
    assert any(inbound["raw_payload"].get("From") == PHONE for inbound in export["inbound_messages"])
    [reply] = [m for m in export["messages"] if m["status"] == "sent"]
    assert NAME in reply["body"] and any(e["payload"].get("email") == EMAIL for e in reply["events"])
    assert export["model_calls"] and any(call["request"] for call in export["model_calls"])
    assert {c["intent"] for c in export["classifications"]} >= {"hot"}
    assert export["sequences"] and export["suppressions"][0]["address"] == PHONE
    assert any(inbound["response_body"] for inbound in export["inbound_messages"])  # its Idempotency-Key's answer
    assert export["intent_examples"]
    assert any(event["action"] == "lead.ingest" for event in export["audit_events"])


def test_erasure_leaves_no_trace_of_the_person_and_keeps_the_counts(api, admin_client, person, media):
    needles = [EMAIL, PHONE, NAME, WORDS, PHONE.lstrip("+")]
    assert traces(needles)  # before: the person is everywhere (the search works)
    counts = (Lead.objects.count(), Message.objects.count(), ModelCall.objects.count())
    other_before = LeadImport.objects.get().file.read().decode()

    assert api.delete(f"/api/leads/{person.pk}/").status_code == 204
    assert traces(needles) == {}
    assert api.get(f"/api/leads/{person.pk}/").status_code == 404
    assert api.get(f"/api/leads/{person.pk}/export/").status_code == 404
    assert api.delete(f"/api/leads/{person.pk}/").status_code == 404

    for stored in media.rglob("*"):  # the CSV files kept on disk: their row is gone, the other person's stays
        if stored.is_file():
            text = stored.read_bytes().decode(errors="replace")
            assert all(n.lower() not in text.lower() for n in needles), stored
    assert OTHER in LeadImport.objects.get().file.open("rb").read().decode() and OTHER in other_before

    assert (Lead.objects.count(), Message.objects.count(), ModelCall.objects.count()) == counts
    tombstone = Lead.objects.get(pk=person.pk)
    assert tombstone.erased_at is not None and tombstone.intent == "hot" and tombstone.contacted_at is not None
    assert is_suppressed(PHONE) is not None  # still never texted again: the list keeps a hash only
    assert Suppression.objects.get().address.startswith("sha256:")
    metrics = api.get("/api/dashboard/metrics/").json()
    assert metrics["overview"]["leads"] == 2 and metrics["messaging"]["sent"] >= 1


def test_erasing_needs_the_right_to_delete(client, person, django_user_model):
    from django.contrib.auth.models import Group

    from bizpilot.access import ensure_operators_group

    ensure_operators_group()
    operator = django_user_model.objects.create_user("op", password="pw", is_staff=True)
    operator.groups.add(Group.objects.get(name="Operators"))
    client.force_login(operator)
    refused = client.post(
        "/admin/leads/lead/", {"action": "erase_people", "_selected_action": [person.pk], "confirm": "1"}
    )
    assert refused.status_code in (200, 302, 403)
    assert Lead.objects.get(pk=person.pk).erased_at is None  # operators cannot erase


def test_the_admin_erases_after_a_confirmation(admin_client, person):
    page = admin_client.post("/admin/leads/lead/", {"action": "erase_people", "_selected_action": [person.pk]})
    assert "This cannot be undone" in page.content.decode() and Lead.objects.get(pk=person.pk).erased_at is None
    admin_client.post("/admin/leads/lead/", {"action": "erase_people", "_selected_action": [person.pk], "confirm": "1"})
    assert Lead.objects.get(pk=person.pk).erased_at is not None


def test_retention_drops_old_raw_payloads_and_prompts_and_keeps_the_rest(api, demo_knowledge, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from leads.models import InboundMessage
    from leads.tests.factories import submit_lead
    from messaging.pipeline import lead_process

    old = submit_lead(MESSAGE, email="old@tiles.example")
    new = submit_lead(MESSAGE, email="new@tiles.example")
    for lead in (old, new):
        lead_process(lead_id=lead.pk)
    long_ago = timezone.now() - timedelta(days=200)
    InboundMessage.objects.filter(lead=old).update(received_at=long_ago)
    ModelCall.objects.filter(lead=old).update(created_at=long_ago)
    assert ModelCall.objects.filter(lead=old).exclude(request={}).exists()
    settings.RETENTION_DAYS = 180
    call_command("purge_expired")
    assert InboundMessage.objects.get(lead=old).raw_payload == {}
    assert InboundMessage.objects.get(lead=old).body == MESSAGE  # the conversation stays
    assert InboundMessage.objects.get(lead=new).raw_payload == {"message": MESSAGE}
    kept = list(ModelCall.objects.filter(lead=old))
    assert kept and all(c.request == {} and c.response == {} for c in kept)  # the call itself stays, for the counts
    assert ModelCall.objects.filter(lead=new).exclude(request={}).exists()
    from django_q.models import Schedule

    assert Schedule.objects.filter(name="purge_expired", func="messaging.tasks.purge_expired").exists()
