"""The signed unsubscribe link: a GET changes nothing (scanners follow links), one POST unsubscribes (RFC 8058)."""

from __future__ import annotations

import pytest
from django.core import mail

from leads.models import Lead
from leads.tests.factories import submit_lead
from messaging.channels import unsubscribe_url
from messaging.models import Suppression
from messaging.pipeline import lead_process
from messaging.review import message_approve
from messaging.sending import message_send

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.split("localhost:8000", 1)[1]


def test_opening_the_link_only_asks_and_the_one_click_post_unsubscribes(client, demo_knowledge):
    lead = submit_lead("Need a site", email="Ann@Shop.example")
    Lead.objects.filter(pk=lead.pk).update(state=Lead.State.CONTACTED)
    url = path_of(unsubscribe_url("Ann@Shop.example"))

    page = client.get(url)
    assert page.status_code == 200 and b"<button" in page.content and b"ann@shop.example" in page.content
    assert not Suppression.objects.exists()  # a link scanner's GET unsubscribes nobody

    done = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.source) == (
        "ann@shop.example",
        "unsubscribed",
        "list-unsubscribe one-click",
    )
    assert Lead.objects.get(pk=lead.pk).state == "unsubscribed"
    assert client.post(url).status_code == 200 and Suppression.objects.count() == 1  # twice is harmless


def test_a_tampered_link_is_refused(client):
    url = path_of(unsubscribe_url("ann@shop.example"))
    response = client.post(url.replace("/unsubscribe/", "/unsubscribe/x"))
    assert response.status_code == 400 and not Suppression.objects.exists()


def test_an_unsubscribed_address_is_never_sent_to_even_when_approved(client, demo_knowledge):
    lead = submit_lead("We need a website", email="ben@cafe.example")
    message = lead_process(lead_id=lead.pk)
    message_approve(message_id=message.pk, actor="user:op")
    client.post(path_of(unsubscribe_url("BEN@cafe.example")))
    result = message_send(message_id=message.pk)
    assert result.status == "suppressed" and "suppression list" in result.last_error
    assert mail.outbox == []
