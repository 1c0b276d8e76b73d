"""Email threading: our emails carry a signed Message-ID of ours and, answering the lead, In-Reply-To and References,
so mail clients thread them; an answer is matched to its conversation by those headers first, then by the lead's
signed reply address, and only then by the sender. Sent through Django's email API (locmem) and received through
anymail's real SendGrid Inbound Parse webhook."""

from __future__ import annotations

import pytest
from django.core import mail

from leads.models import InboundMessage, Lead
from leads.threads import reply_address, thread_lead_id, thread_message_id
from messaging.models import Message
from messaging.tests.factories import send
from messaging.tests.test_conversation import email_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def email_settings(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "sendgrid:inbound-secret"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.INBOUND_EMAIL_DOMAIN = "reply.northwind.example"


def headers_of(email) -> dict[str, str]:
    return {k: str(v) for k, v in email.message().items()}


def test_every_email_we_send_carries_our_signed_message_id_and_the_lead_reply_address(contacted_lead):
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    sent = headers_of(mail.outbox[0])
    assert (
        sent["Message-ID"]
        == first.email_message_id
        == thread_message_id(lead_id=contacted_lead.pk, message_id=first.pk)
    )
    assert sent["Message-ID"].startswith(f"<bp.{contacted_lead.pk}.{first.pk}.")
    assert sent["Reply-To"] == reply_address(lead_id=contacted_lead.pk)
    assert sent["Reply-To"].startswith(f"reply+{contacted_lead.pk}.") and sent["Reply-To"].endswith(
        "@reply.northwind.example"
    )


def test_our_answer_to_an_email_threads_under_it(client, contacted_lead, django_capture_on_commit_callbacks):
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    with django_capture_on_commit_callbacks(execute=True):
        inbound = email_in(
            client,
            "Do you do the hosting too?",
            message_id="<CAF-lead-1@mail.gmail.com>",
            headers=f"In-Reply-To: {first.email_message_id}\nReferences: {first.email_message_id}\n",
        )
    answer = Message.objects.get(in_reply_to=inbound)
    send(answer)
    sent = headers_of(mail.outbox[-1])
    assert sent["In-Reply-To"] == "<CAF-lead-1@mail.gmail.com>"
    assert sent["References"].split() == [first.email_message_id, "<CAF-lead-1@mail.gmail.com>"]
    assert sent["Subject"] == "Re: Your website"


def test_a_colleague_answering_from_another_address_lands_in_the_same_thread(
    client, contacted_lead, django_capture_on_commit_callbacks
):
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    with django_capture_on_commit_callbacks(execute=True):
        inbound = email_in(
            client,
            "Hi, I'm Sam's business partner. Can we do Thursday at 2pm?",
            sender="Alex Kim <alex@salon-partners.example>",
            headers=f"In-Reply-To: {first.email_message_id}\n",
        )
    assert inbound.lead_id == contacted_lead.pk and inbound.from_address == "alex@salon-partners.example"
    assert Lead.objects.count() == 1
    contacted_lead.refresh_from_db()
    assert contacted_lead.email == "sam@salon.example" and contacted_lead.state == Lead.State.REPLIED
    assert Message.objects.get(in_reply_to=inbound).to_address == "sam@salon.example"


def test_the_reply_address_finds_the_thread_when_a_client_dropped_the_headers(client, contacted_lead):
    inbound = email_in(
        client,
        "Forwarding this to you from my phone: yes please go ahead",
        sender="Sam Lee <sam.mobile@phone.example>",
        to=reply_address(lead_id=contacted_lead.pk),
    )
    assert inbound.lead_id == contacted_lead.pk and inbound.from_address == "sam.mobile@phone.example"


def test_a_forged_message_id_or_reply_address_matches_nothing(client, contacted_lead):
    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    forged = first.email_message_id.replace(f"bp.{contacted_lead.pk}.", f"bp.{contacted_lead.pk + 1}.")
    assert thread_lead_id(in_reply_to=forged) is None
    guessed = f"reply+{contacted_lead.pk}.000000000000@reply.northwind.example"
    assert thread_lead_id(recipients=[guessed]) is None
    inbound = email_in(
        client, "let me in", sender="Mallory <mallory@evil.example>", headers=f"In-Reply-To: {forged}\n", to=guessed
    )
    assert inbound.lead_id != contacted_lead.pk  # a new lead of its own sender
    assert Lead.objects.get(pk=inbound.lead_id).email == "mallory@evil.example"


def test_an_erased_lead_has_no_thread_to_join(client, contacted_lead):
    from leads.erasure import lead_erase

    first = Message.objects.get(lead=contacted_lead, in_reply_to__isnull=False)
    message_id = thread_message_id(lead_id=contacted_lead.pk, message_id=first.pk)
    lead_erase(lead_id=contacted_lead.pk, actor="user:admin")
    assert thread_lead_id(in_reply_to=message_id) is None


def test_the_leads_own_earlier_email_threads_a_reply_all(client, contacted_lead):
    original = email_in(client, "First question from Sam", message_id="<sam-original@mail.example>")
    inbound = email_in(
        client,
        "Replying all: we're in too",
        sender="Jo Park <jo@another.example>",
        headers="References: <sam-original@mail.example>\n",
    )
    assert inbound.lead_id == original.lead_id == contacted_lead.pk
    assert InboundMessage.objects.filter(lead=contacted_lead, from_address="jo@another.example").exists()
