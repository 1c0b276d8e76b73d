"""The review console: queue order and filters, the actions as service calls, permissions, the auto-send policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from bizpilot.business import business_save
from bizpilot.errors import PermissionDenied
from bizpilot.models import AuditEvent
from bizpilot.tests.factories import UserFactory
from intelligence.tests.anthropic_stub import StubResponse, tool_use_message
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import AutoSendPolicy, Message
from messaging.pipeline import lead_process
from messaging.review import message_approve, message_regenerate, message_update_draft
from messaging.tests.factories import AutoSendPolicyFactory

pytestmark = pytest.mark.django_db

HOT = "We need a new website for our salon next month, budget approved, can we start this week?"
COLD = "Just browsing, nice site."


@pytest.fixture
def operator(db):
    return UserFactory(username="olivia", operator=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def draft(text: str, **fields) -> Message:
    message = lead_process(lead_id=submit_lead(text, **fields).pk)
    assert message is not None
    return message


def test_the_queue_puts_hot_first_then_the_oldest_and_counts_each_intent(operator_client, demo_knowledge):
    cold = draft(COLD)
    hot_old = draft(HOT, name="Ann")
    hot_new = draft(HOT.replace("salon", "bakery"), name="Ben")
    Message.objects.filter(pk=hot_new.pk).update(created_at=timezone.now() + timedelta(minutes=1))
    page = operator_client.get("/admin/messaging/reviewqueueitem/")
    assert page.status_code == 200
    rows = [m.pk for m in page.context["cl"].result_list]
    assert rows == [hot_old.pk, hot_new.pk, cold.pk]
    assert page.context["intent_counts"] == {"hot": 2, "warm": 0, "cold": 1}
    assert "hot: 2" in page.content.decode()
    only_cold = operator_client.get("/admin/messaging/reviewqueueitem/?lead__intent__exact=cold")
    assert [m.pk for m in only_cold.context["cl"].result_list] == [cold.pk]
    low = operator_client.get("/admin/messaging/reviewqueueitem/?confidence=high")
    assert all(m.draft_confidence >= 0.85 for m in low.context["cl"].result_list)
    searched = operator_client.get("/admin/messaging/reviewqueueitem/?q=Ben")
    assert [m.pk for m in searched.context["cl"].result_list] == [hot_new.pk]


def test_an_operator_reviews_and_sends_but_cannot_change_settings_or_delete(
    operator_client, demo_knowledge, django_capture_on_commit_callbacks
):
    message = draft(HOT, name="Ann Lee")
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"/admin/messaging/message/{message.pk}/change/",
            {
                "subject": message.subject,
                "body": message.body + "\n\nP.S. See you soon.",
                "_approve": "1",
                "events-TOTAL_FORMS": "0",
                "events-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/admin/messaging/reviewqueueitem/"
    assert Message.objects.get(pk=message.pk).status == "sent" and len(mail.outbox) == 1
    for forbidden in [
        "/admin/messaging/autosendpolicy/add/",
        "/admin/leads/integration/add/",
        f"/admin/leads/lead/{message.lead_id}/delete/",
        "/admin/auth/user/",
    ]:
        assert operator_client.get(forbidden).status_code == 403, forbidden
    template = operator_client.post("/admin/intelligence/prompttemplate/1/change/", {"instructions": "x"})
    assert template.status_code == 403  # operators may read the prompt templates, not change them


def test_the_services_refuse_a_user_without_the_review_permission(demo_knowledge):
    message = draft(HOT)
    clerk = UserFactory(username="clerk")  # staff, but not an operator
    with pytest.raises(PermissionDenied):
        message_approve(message_id=message.pk, actor="user:clerk", user=clerk)
    with pytest.raises(PermissionDenied):
        message_update_draft(message_id=message.pk, actor="user:clerk", body="x", user=clerk)
    assert Message.objects.get(pk=message.pk).status == "pending_review"


def test_edits_are_tracked_with_their_size_and_shown_as_a_diff(operator_client, operator, demo_knowledge):
    message = draft(HOT, name="Ann Lee")
    new_body = message.body.replace("Hi Ann", "Hello Ann") + "\nAnything else?"
    message_update_draft(message_id=message.pk, actor="user:olivia", body=new_body, user=operator)
    message.refresh_from_db()
    assert (
        message.original_body != message.body
        and message.edit_size == len("Hello") - len("Hi") + 2 + len("\nAnything else?")
    ) or message.edit_size > 0
    html = operator_client.get(f"/admin/messaging/message/{message.pk}/change/").content.decode()
    assert "characters changed from the draft" in html and 'class="bp-added">+ ' in html


def test_regenerating_with_a_note_redrafts_and_keeps_the_old_text_in_the_audit(
    anthropic_stub, demo_knowledge, operator
):
    anthropic_stub.queue(
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "First",
                    "body": "Hi [FIRST_NAME], first try.\n\nMaya",
                    "confidence": 0.8,
                    "reasoning": "r",
                    "facts_used": [],
                }
            ),
        ),
        StubResponse(
            200,
            tool_use_message(
                {
                    "subject": "Second",
                    "body": "Hi [FIRST_NAME], spring offer!\n\nMaya",
                    "confidence": 0.8,
                    "reasoning": "r",
                    "facts_used": [],
                }
            ),
        ),
    )
    message = draft(HOT, name="Ann Lee")
    # (Which queued answer the first draft got depends on whether the classifier asked the LLM to arbitrate first.)
    first_body = message.body
    regenerated = message_regenerate(
        message_id=message.pk, actor="user:olivia", note="Mention the spring offer", user=operator
    )
    assert "Mention the spring offer" in anthropic_stub.requests[-1].body["messages"][0]["content"]
    assert (regenerated.subject, regenerated.body) == ("Second", "Hi Ann, spring offer!\n\nMaya")
    assert regenerated.original_body == regenerated.body and regenerated.status == "pending_review"
    event = AuditEvent.objects.get(action="message.regenerate")
    assert event.before["body"] == first_body and event.after["note"] == "Mention the spring offer"


def test_an_approval_is_void_once_the_text_changes_elsewhere(demo_knowledge, operator):
    from messaging.sending import message_send

    message = draft(HOT, name="Ann Lee")
    message_approve(message_id=message.pk, actor="user:olivia", user=operator)
    Message.objects.filter(pk=message.pk).update(body="Changed by someone else after the approval")
    assert message_send(message_id=message.pk).status == "pending_review" and mail.outbox == []


def test_correcting_the_intent_and_marking_outcomes_from_the_review_screen(operator_client, demo_knowledge):
    message = draft(COLD, name="Ann Lee")
    base = {"subject": message.subject, "body": message.body, "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}
    operator_client.post(
        f"/admin/messaging/message/{message.pk}/change/", {**base, "correct_intent": "warm", "_intent": "1"}
    )
    assert Lead.objects.get(pk=message.lead_id).intent == "warm"
    operator_client.post(f"/admin/messaging/message/{message.pk}/change/", {**base, "_lost": "1"})
    assert Lead.objects.get(pk=message.lead_id).state == "lost"
    assert AuditEvent.objects.filter(action="lead.lost", actor="user:olivia").exists()


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"enabled": False}, "auto-send is off"),
        ({"threshold": 0.999}, "< 1.00"),
        ({"email": False}, "auto-send is off for Email"),
        ({"hot": False}, "auto-send is off for hot leads"),
        ({"daily_cap": 0}, "today's cap of 0 automatic sends is reached"),
    ],
)
def test_each_policy_setting_holds_a_draft_and_says_why(demo_knowledge, change, reason):
    AutoSendPolicyFactory(**{"enabled": True, "threshold": 0.5, **change})
    message = draft(HOT, name="Priya Shah")
    assert message.status == "pending_review" and reason in message.auto_send_decision


def test_quiet_hours_hold_texts_in_the_business_time_zone(demo_knowledge):
    business_save(values={"time_zone": "Asia/Tokyo"}, actor="user:admin")  # 9 hours from the server's UTC
    now = timezone.now().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    AutoSendPolicyFactory(enabled=True, threshold=0.0, quiet_hours_start=start, quiet_hours_end=end)
    text = draft(HOT, name="Tom Baker", phone="+447700900123")
    assert text.channel == "sms" and "quiet hours for texts" in text.auto_send_decision
    email = draft(HOT.replace("salon", "gym"), name="Ann Lee")
    assert "quiet hours" not in email.auto_send_decision


def test_only_admins_change_the_policy_and_each_change_is_audited(admin_client, operator_client, db):
    form = {"enabled": "on", "threshold": "0.9", "email": "on", "hot": "on", "warm": "on"}
    assert operator_client.post("/admin/messaging/autosendpolicy/add/", form).status_code == 403
    assert admin_client.post("/admin/messaging/autosendpolicy/add/", form).status_code == 302
    policy = AutoSendPolicy.current()
    assert (policy.enabled, policy.threshold, policy.sms, policy.cold, policy.updated_by) == (
        True,
        0.9,
        False,
        False,
        "user:admin",
    )
    assert AuditEvent.objects.get(action="auto_send_policy.change").after["threshold"] == "0.9"
    assert admin_client.get("/admin/messaging/autosendpolicy/").status_code == 302  # one policy: straight to it
    bad = admin_client.post(f"/admin/messaging/autosendpolicy/{policy.pk}/change/", {**form, "threshold": "1.5"})
    assert bad.status_code == 200 and "Must be a number from 0 to 1" in bad.content.decode()
    assert AutoSendPolicy.current().threshold == 0.9


def test_the_audit_log_is_read_only_for_everyone(admin_client, operator_client, demo_knowledge):
    draft(HOT)
    event = AuditEvent.objects.first()
    assert operator_client.get("/admin/bizpilot/auditevent/").status_code == 200
    assert admin_client.post(f"/admin/bizpilot/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
