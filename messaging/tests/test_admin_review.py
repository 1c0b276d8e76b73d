from __future__ import annotations

import pytest
from django.core import mail

from bizpilot.models import AuditEvent
from leads.tests.factories import submit_lead
from messaging.models import Message
from messaging.pipeline import lead_process

pytestmark = pytest.mark.django_db


def make_draft(
    message="We need a new website for our salon next month, can you quote?", email="ruth@okaforsalon.example"
) -> Message:
    lead = submit_lead(message, name="Ruth Okafor", email=email, company="Okafor Salon")
    lead_process(lead_id=lead.pk)
    return Message.objects.get(lead=lead)


def form_data(message: Message, **extra) -> dict:
    management = {"events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}  # the delivery events inline
    return {"subject": message.subject, "body": message.body, "reject_reason": "", **management, **extra}


def test_pending_drafts_are_listed_for_the_operator(admin_client, demo_knowledge):
    draft = make_draft()
    page = admin_client.get("/admin/messaging/message/?status__exact=pending_review")
    assert page.status_code == 200
    assert draft.to_address in page.content.decode()


def test_operator_edits_and_approves_a_draft_and_it_is_sent(
    admin_client, demo_knowledge, django_capture_on_commit_callbacks
):
    draft = make_draft()
    page = admin_client.get(f"/admin/messaging/message/{draft.pk}/change/")
    html = page.content.decode()
    assert "Save and approve" in html and 'id="bp-why"' in html
    assert "Most similar labelled examples" in html

    edited = "Hi Ruth,\n\nThanks! A salon site takes 4 to 6 weeks. Shall we talk on Tuesday?\n\nMaya"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/messaging/message/{draft.pk}/change/", form_data(draft, body=edited, _approve="1")
        )
    assert response.status_code == 302, response.context_data["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.status == "sent"
    assert (draft.original_body != draft.body) and draft.body == edited
    assert draft.approved_by == "user:admin"
    assert mail.outbox[0].body.split("\n\n--\n")[0] == edited
    assert AuditEvent.objects.filter(action="message.approve", actor="user:admin").exists()


def test_operator_saves_a_draft_without_approving(admin_client, demo_knowledge):
    draft = make_draft()
    admin_client.post(f"/admin/messaging/message/{draft.pk}/change/", form_data(draft, body="New text", _continue="1"))
    draft.refresh_from_db()
    assert (draft.status, draft.body) == ("pending_review", "New text")
    assert mail.outbox == []


def test_operator_rejects_a_draft_with_a_reason(admin_client, demo_knowledge, django_capture_on_commit_callbacks):
    draft = make_draft()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/admin/messaging/message/{draft.pk}/change/",
            form_data(draft, reject_reason="Spam", _reject="1"),
        )
    draft.refresh_from_db()
    assert (draft.status, draft.rejected_reason) == ("rejected", "Spam")
    assert mail.outbox == []


def test_bulk_approve_shows_exactly_what_will_be_sent_then_sends_after_confirmation(
    admin_client, demo_knowledge, django_capture_on_commit_callbacks
):
    drafts = [make_draft(), make_draft("Just browsing, nice site.", email="ruth@home.example")]
    selected = {"action": "approve_selected", "_selected_action": [d.pk for d in drafts]}
    confirmation = admin_client.post("/admin/messaging/message/", selected).content.decode()
    assert "Send 2 replies?" in confirmation
    for draft in drafts:
        assert draft.to_address in confirmation and draft.subject in confirmation
        assert draft.body.splitlines()[0] in confirmation
    assert set(Message.objects.values_list("status", flat=True)) == {"pending_review"}  # nothing sent yet
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/messaging/message/", {**selected, "confirm": "Yes, send them"})
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 2


def test_lead_text_is_escaped_on_the_review_screen(admin_client, demo_knowledge):
    draft = make_draft("<script>alert('x')</script> we need a site")
    html = admin_client.get(f"/admin/messaging/message/{draft.pk}/change/").content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;" in html


def test_a_message_the_lead_sent_after_the_draft_shows_on_the_review_screen(admin_client, demo_knowledge):
    draft = make_draft()
    submit_lead("Also, can you do it before Christmas?", email="RUTH@okaforsalon.example")
    html = admin_client.get(f"/admin/messaging/message/{draft.pk}/change/").content.decode()
    assert "this draft answers it" in html
    assert "NEW since this draft" in html and "before Christmas" in html


def test_an_operator_can_suppress_an_address_by_hand(admin_client, db):
    from messaging.models import Suppression

    response = admin_client.post(
        "/admin/messaging/suppression/add/", {"address": "Spam@Trap.example", "reason": "manual"}
    )
    assert response.status_code == 302
    assert Suppression.objects.get().address == "spam@trap.example"
    assert AuditEvent.objects.filter(action="suppression.add", actor="user:admin").exists()
