"""The answer fits who wrote: a vendor's pitch gets a short "no, thank you", a job seeker the careers answer, an
existing customer's support request the support route (forwarded, and the customer told so), spam no reply; the
business changes any of them in the admin. Real classifier (the sender-kind model), fallback drafting."""

from __future__ import annotations

import pytest
from django.core import mail

from bizpilot.models import AuditEvent
from intelligence.models import Classification
from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.models import Message, SenderRoute
from messaging.pipeline import lead_process
from messaging.routes import sender_route, sender_route_save

VENDOR = (
    "Hi, I noticed your website isn't ranking on Google. We've helped 300+ businesses reach page one with our SEO "
    "packages. Can I book 15 minutes with you this week to show you a free audit?"
)
JOB_SEEKER = "Hi! I'm a design student looking for an internship this summer, do you take students? Portfolio attached."
SUPPORT = "How do I reset my password on your site? I can't log in to my account since yesterday."


@pytest.fixture(autouse=True)
def email_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SUPPORT_EMAIL = "support@northwind.example"


def drafted(text: str, **fields) -> tuple[Lead, Message | None, str]:
    lead = submit_lead(text, **fields)
    message = lead_process(lead_id=lead.pk)
    return lead, message, Classification.objects.get(lead=lead).kind


def test_a_vendors_pitch_gets_a_short_no_thank_you_not_a_sales_reply(demo_knowledge):
    _lead, message, kind = drafted(VENDOR, email="ravi@seo-growth.example", name="Ravi Shah")
    assert kind == "vendor" and message is not None
    assert message.template_name == "route:vendor"
    assert "not looking for this at the moment" in message.body and "discovery call" not in message.body.lower()
    assert message.body.startswith("Hi Ravi,") and message.status == Message.Status.PENDING_REVIEW


def test_a_job_seeker_gets_the_careers_answer(demo_knowledge):
    _lead, message, kind = drafted(JOB_SEEKER, email="ana@student.example", name="Ana Lopes")
    assert kind == "job_seeker" and message is not None
    assert message.template_name == "route:job_seeker" and "working with Northwind Web Studio" in message.body
    assert "websites, online shops" not in message.body  # not the list of services


def test_a_support_request_is_forwarded_and_the_customer_told(demo_knowledge, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead, message, kind = drafted(SUPPORT, email="kim@client.example", name="Kim Ray")
    assert kind == "support" and message is not None
    assert "passed your message to our support team (support@northwind.example)" in message.body
    forwarded = [m for m in mail.outbox if m.to == ["support@northwind.example"]]
    assert len(forwarded) == 1 and SUPPORT in forwarded[0].body and forwarded[0].reply_to == ["kim@client.example"]
    # The forward is sent once, however often its job runs.
    from messaging.routes import inbound_forward

    assert inbound_forward(inbound_id=lead.inbound_messages.get().pk, to="support@northwind.example") is False


def test_spam_gets_no_reply_and_the_lead_is_closed_with_the_reason(demo_knowledge):
    lead, message, kind = drafted("Click here to claim your prize!!! make $5000 a week", email="win@prize.example")
    assert kind == "spam" and message is None
    lead.refresh_from_db()
    assert lead.state == Lead.State.LOST
    reason = AuditEvent.objects.get(action="lead.closed_without_reply", object_id=str(lead.pk)).after["reason"]
    assert "spam: no reply" in reason


def test_the_business_chooses_another_answer_audited(demo_knowledge):
    sender_route_save(kind="vendor", values={"action": "no_reply", "subject": "", "body": ""}, actor="user:owner")
    assert AuditEvent.objects.filter(action="sender_route.change").count() == 1
    lead, message, _kind = drafted(VENDOR, email="ravi@seo-growth.example", name="Ravi")
    assert message is None and Lead.objects.get(pk=lead.pk).state == Lead.State.LOST


def test_a_route_that_cannot_work_is_refused_with_the_field_named(db, settings):
    from bizpilot.errors import ValidationFailed

    settings.SUPPORT_EMAIL = ""
    with pytest.raises(ValidationFailed) as refused:
        sender_route_save(kind="support", values={"action": "forward", "body": "Hi", "forward_to": ""}, actor="x")
    assert "forward_to" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        sender_route_save(kind="vendor", values={"action": "template", "body": "{% if %}"}, actor="x")
    assert "body" in refused.value.fields
    assert sender_route("vendor").action == SenderRoute.Action.TEMPLATE  # unchanged


def test_a_support_customer_writing_again_goes_to_support_again_not_to_sales(
    client, demo_knowledge, django_capture_on_commit_callbacks, settings
):
    from intelligence.models import ReplyClassification
    from messaging.review import message_approve
    from messaging.tests.test_conversation import email_in

    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "sendgrid:inbound-secret"}
    with django_capture_on_commit_callbacks(execute=True):
        _, message, _ = drafted(SUPPORT, email="kim@client.example", name="Kim Ray")
    with django_capture_on_commit_callbacks(execute=True):
        message_approve(message_id=message.pk, actor="user:ops")  # the route's reply goes out
    assert Message.objects.get(pk=message.pk).status == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        again = email_in(client, "Still can't log in, any news?", sender="Kim Ray <kim@client.example>")
    assert not Message.objects.filter(in_reply_to=again).exists()
    assert "forwarded to support@northwind.example" in ReplyClassification.objects.get(inbound=again).outcome
    forwarded = [m for m in mail.outbox if m.to == ["support@northwind.example"]]
    assert len(forwarded) == 2 and "Still can't log in" in forwarded[1].body
