"""Email in through anymail's SendGrid Inbound Parse webhook: authenticated, trimmed to the new text, deduplicated."""

from __future__ import annotations

import base64
import json

import pytest

from leads.email_text import new_text
from leads.models import InboundMessage, Lead

pytestmark = pytest.mark.django_db

AUTH = "sendgrid:inbound-secret"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": AUTH}


def inbound_parse(
    *,
    text="",
    html="",
    message_id="<CAF=abc123@mail.gmail.com>",
    sender="Ruth Okafor <Ruth@OkaforSalon.example>",
    subject="Website for my salon",
):
    """The fields SendGrid Inbound Parse posts (its default, parsed format)."""
    headers = (
        f"Received: by mx.sendgrid.net\nFrom: {sender}\nTo: leads@northwind.example\nSubject: {subject}\n"
        f"Message-ID: {message_id}\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
    )
    fields = {
        "headers": headers,
        "from": sender,
        "to": "leads@northwind.example",
        "subject": subject,
        "envelope": json.dumps({"to": ["leads@northwind.example"], "from": "ruth@okaforsalon.example"}),
        "charsets": json.dumps({"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}),
        "spam_score": "0.1",
        "SPF": "pass",
    }
    if text:
        fields["text"] = text
    if html:
        fields["html"] = html
    return fields


def post(client, fields, auth=AUTH):
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post("/anymail/sendgrid/inbound/", fields, **headers)


REPLY = """Hi Maya,

Yes, Thursday at 10 works. Could you also quote for online booking?

Thanks,
Ruth
--
Ruth Okafor | Okafor Salon | 0113 496 0000

On Mon, 23 Nov 2026 at 09:12, Maya from Northwind <hello@northwind.example> wrote:
> Hi Ruth, thanks for getting in touch...
> Could we have a 15-minute call this week?
"""


def test_an_email_becomes_a_lead_with_only_the_new_text(client):
    response = post(client, inbound_parse(text=REPLY))
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.source, lead.preferred_channel) == (
        "Ruth Okafor",
        "Ruth@okaforsalon.example",
        "email",
        "email",
    )
    inbound = lead.inbound_messages.get()
    assert (
        inbound.body
        == "Hi Maya,\n\nYes, Thursday at 10 works. Could you also quote for online booking?\n\nThanks,\nRuth"
    )
    assert (inbound.subject, inbound.channel, inbound.provider_message_id) == (
        "Website for my salon",
        "email",
        "<CAF=abc123@mail.gmail.com>",
    )
    assert "On Mon, 23 Nov" in inbound.raw_payload["text"]  # the raw email is kept whole


def test_an_html_only_email_is_reduced_to_text(client):
    html = (
        "<html><head><style>p{color:red}</style></head><body><div>Hello,</div><p>We need a <b>shop</b> "
        "&amp; a blog.</p><div class='gmail_quote'>On Sun, Maya wrote:<blockquote>old</blockquote></div>"
        "</body></html>"
    )
    post(client, inbound_parse(html=html))
    body = InboundMessage.objects.get().body
    assert body == "Hello,\n\nWe need a shop & a blog."


def test_the_esp_retrying_the_same_email_stores_it_once(client):
    post(client, inbound_parse(text="Hello"))
    post(client, inbound_parse(text="Hello"))
    assert InboundMessage.objects.count() == 1


def test_a_reply_from_a_contacted_lead_attaches_and_marks_it_replied(client):
    post(client, inbound_parse(text="First question"))
    Lead.objects.update(state=Lead.State.CONTACTED)
    post(client, inbound_parse(text=REPLY, message_id="<second@mail.gmail.com>"))
    lead = Lead.objects.get()
    assert lead.state == "replied" and lead.inbound_messages.count() == 2


@pytest.mark.parametrize("auth", ["", "sendgrid:wrong"])
def test_unauthenticated_inbound_email_is_refused_and_nothing_stored(client, auth):
    response = post(client, inbound_parse(text="Hello"), auth=auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Lead.objects.count() == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Sounds good!\n\nSent from my iPhone", "Sounds good!"),
        ("Yes please\n\n-----Original Message-----\nFrom: Maya\nold text", "Yes please"),
        ("Top line\n> quoted line\nBottom line", "Top line\nBottom line"),
        ("Merci !\n\nLe lun. 23 nov. 2026 à 09:12, Maya <m@n.example> a écrit :\n> old", "Merci !"),
    ],
)
def test_quoted_replies_and_signatures_are_trimmed(text, expected):
    assert new_text(text=text) == expected
