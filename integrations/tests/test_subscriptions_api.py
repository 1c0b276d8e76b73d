"""Webhook subscriptions through the API: made (the answer holds the secret, once), listed, changed, turned back on
(what it missed goes out), removed; bad input gets field errors and nothing is stored; a person needs the
permission; every event's payload is in the schema's `webhooks` section."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bizpilot.models import AuditEvent
from bizpilot.tests.factories import UserFactory
from integrations.delivery import webhooks_dispatch
from integrations.events import webhook_event_record
from integrations.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription
from integrations.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


def test_a_subscription_is_made_listed_changed_and_removed_through_the_api(api):
    made = api.post(
        "/api/webhooks/subscriptions/",
        {
            "url": "https://crm.example.com/hooks/bizpilot",
            "events": ["lead.classified", "lead.classified", "lead.lost"],
        },
        format="json",
    )
    assert made.status_code == 201
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["name"] == "crm.example.com"
    assert body["events"] == ["lead.classified", "lead.lost"]  # each once
    assert (body["personal_data"], body["message_text"], body["is_active"]) == ("none", "none", True)
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == body["secret"]

    listed = api.get("/api/webhooks/subscriptions/").json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    assert "secret" not in api.get(f"/api/webhooks/subscriptions/{subscription.pk}/").json()

    changed = api.patch(
        f"/api/webhooks/subscriptions/{subscription.pk}/",
        {"personal_data": "contact", "message_text": "redacted"},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["personal_data"] == "contact"
    subscription.refresh_from_db()
    assert subscription.events == ["lead.classified", "lead.lost"] and subscription.message_text == "redacted"
    actions = list(
        AuditEvent.objects.filter(object_type=WebhookSubscription._meta.label)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["webhook_subscription.created", "webhook_subscription.changed"]

    assert api.delete(f"/api/webhooks/subscriptions/{subscription.pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert api.get(f"/api/webhooks/subscriptions/{subscription.pk}/").status_code == 404


def test_bad_input_names_each_field_and_stores_nothing(api):
    answer = api.post(
        "/api/webhooks/subscriptions/",
        {"url": "ftp://files.example.com/", "events": ["lead.sneezed"], "personal_data": "everything", "colour": 1},
        format="json",
    )
    assert answer.status_code == 400
    fields = answer.json()["error"]["fields"]
    assert fields["url"] == ["Must be an http:// or https:// URL."]
    assert set(fields) == {"url", "events.0", "personal_data", "colour"}
    assert fields["events.0"] == ['"lead.sneezed" is not a valid choice.']
    assert api.post("/api/webhooks/subscriptions/", {"url": "https://a.example/", "events": []}, format="json").json()[
        "error"
    ]["fields"]["events"]
    assert not WebhookSubscription.objects.exists()


def test_turning_a_disabled_subscription_back_on_through_the_api_sends_what_it_missed(api):
    receiver_subscription = WebhookSubscription.objects.create(
        name="x", url="http://127.0.0.1:1/", events=["lead.lost"]
    )
    receiver = Receiver(receiver_subscription.secret).start()
    try:
        WebhookSubscription.objects.filter(pk=receiver_subscription.pk).update(url=receiver.url)
        webhook_event_record(type="lead.lost", key="lost:1", lead_id=1, data={"lead": {"id": 1}})
        WebhookSubscription.objects.filter(pk=receiver_subscription.pk).update(
            is_active=False, disabled_at=timezone.now(), disabled_reason="410"
        )
        WebhookDelivery.objects.update(status=WebhookDelivery.Status.FAILED)
        answer = api.patch(
            f"/api/webhooks/subscriptions/{receiver_subscription.pk}/", {"is_active": True}, format="json"
        )
        assert answer.status_code == 200 and answer.json()["is_active"] and answer.json()["disabled_reason"] == ""
        webhooks_dispatch()
        assert [event["type"] for event in receiver.processed] == ["lead.lost"]
    finally:
        receiver.stop()


def test_a_person_needs_the_permission_and_an_operator_may_only_look(client):
    operator = UserFactory(operator=True)
    session = APIClient()
    session.force_login(operator)
    assert session.get("/api/webhooks/subscriptions/").status_code == 200
    refused = session.post(
        "/api/webhooks/subscriptions/", {"url": "https://a.example/", "events": ["lead.lost"]}, format="json"
    )
    assert refused.status_code == 403 and not WebhookSubscription.objects.exists()
    assert APIClient().get("/api/webhooks/subscriptions/").status_code == 401


def test_every_event_payload_is_in_the_schema_webhooks_section(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == set(EVENT_TYPES)
    classified = schema["webhooks"]["lead.classified"]["post"]
    headers = {p["name"] for p in classified["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    body_ref = classified["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    body = schema["components"]["schemas"][body_ref]
    assert set(body["properties"]) == {"type", "timestamp", "data"}
    data = schema["components"]["schemas"][body["properties"]["data"]["$ref"].split("/")[-1]]
    assert set(data["properties"]) == {"lead", "classification"}
