"""The conversation screen in a real browser (Debian's Chromium driven by playwright against the live server): an
operator opens a lead, reads the thread, edits and sends the drafted answer, writes an SMS of their own and adds a
note. A screenshot is saved in test-artifacts/conversation.png."""

from __future__ import annotations

from django.core import mail

from bizpilot.tests.factories import UserFactory
from leads.ingest import LeadInput, lead_ingest
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import ConversationNote, Message, Sequence, SequenceStep
from messaging.pipeline import lead_process
from messaging.sequence_defaults import seed_default_sequences
from messaging.tests.factories import send
from messaging.tests.test_review_console_browser import ARTIFACTS, PASSWORD


def test_an_operator_works_a_conversation_in_a_browser(
    live_server, browser_page, transactional_db, demo_knowledge, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seed_default_sequences(Sequence, SequenceStep)
    UserFactory(username="olivia", password=PASSWORD, operator=True)
    lead = submit_lead(
        "We need a new website for our dog grooming salon next month, can we start soon?",
        name="Dana Groom",
        email="dana@groomers.example",
        phone="+447700900555",
        metadata={"text_consent": True},
    )
    lead_process(lead_id=lead.pk)
    send(Message.objects.get(lead=lead))
    # The lead answers by email (committed at once: the reply's turn drafts the answer).
    lead_ingest(
        data=LeadInput(
            email="dana@groomers.example",
            subject="Re: Your website",
            message="Thanks Maya! Thursday at 2pm works for me. Is 4k realistic for 6 pages plus online booking?",
        ),
        channel="email",
        actor="email:sendgrid",
        raw_payload={},
    )
    draft = Message.objects.get(lead=lead, status=Message.Status.PENDING_REVIEW)
    assert draft.reply_kind == "meeting"

    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/lead/{lead.pk}/change/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#bp-thread")  # the lead's page is its conversation
    thread = page.inner_text("#bp-thread")
    assert "We need a new website for our dog grooming salon" in thread
    assert "Thursday at 2pm works for me" in thread and "Read as meeting" in thread
    assert "Intent history" in page.inner_text("#bp-side") and "Replied" in page.inner_text("#bp-stage")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "conversation.png"), full_page=True)

    # Edit the drafted answer inline and send it.
    form = page.locator(f"#bp-draft-{draft.pk}")
    edited = "Hi Dana,\n\nThursday at 2pm is booked. 4k covers six pages with online booking.\n\nMaya"
    form.locator("textarea[name=body]").fill(edited)
    form.locator("input[name=_approve]").click()
    page.wait_for_selector(".messagelist")
    assert "Approved" in page.inner_text(".messagelist")
    draft.refresh_from_db()
    assert (draft.status, draft.body, draft.approved_by) == ("sent", edited, "user:olivia")
    assert mail.outbox[-1].to == ["dana@groomers.example"] and mail.outbox[-1].body.startswith(edited)

    # Write an SMS of one's own.
    page.select_option("#bp-channel", "sms")
    assert page.locator("#bp-compose-subject").is_hidden()
    page.fill("#bp-compose-body", "Hi Dana, Maya here: see you Thursday at 2!")
    page.click("#bp-compose input[name=_compose]")
    page.wait_for_selector(".messagelist")
    sms = Message.objects.get(lead=lead, generated_by="person")
    assert (sms.channel, sms.to_address, sms.status, sms.approved_by) == ("sms", "+447700900555", "sent", "user:olivia")

    # Add an internal note: in the thread, never sent.
    page.fill("#bp-note-body", "Dana prefers texts after 5pm")
    page.click("#bp-note input[name=_note]")
    page.wait_for_selector(".messagelist")
    assert ConversationNote.objects.get(lead=lead).author == "user:olivia"
    assert "Dana prefers texts after 5pm" in page.inner_text("#bp-thread")
    assert Message.objects.filter(lead=lead, status="sent").count() == 3  # the note was not sent
    assert Lead.objects.get(pk=lead.pk).state == Lead.State.CONTACTED
    page.screenshot(path=str(ARTIFACTS / "conversation-after.png"), full_page=True)
    assert page.dialogs == []
