from __future__ import annotations

import json

import pytest

from leads.api_keys import api_key_create, api_key_revoke
from leads.models import InboundMessage, Lead

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Priya Shah",
    "email": "priya@shahphysio.example",
    "company": "Shah Physio",
    "message": "We need a new website with online booking for our clinic.",
}


def post(api, payload, **headers):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return api.post("/api/leads/", body, content_type="application/json", **headers)


def assert_nothing_stored():
    assert Lead.objects.count() == 0
    assert InboundMessage.objects.count() == 0


def test_valid_lead_is_accepted_with_its_id_and_raw_payload_kept(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(api, {**GOOD, "metadata": {"utm_source": "google"}})
    assert response.status_code == 202
    lead = Lead.objects.get(pk=response.json()["id"])
    assert response.json() == {"id": lead.pk, "state": "received", "outcome": "new", "url": f"/api/leads/{lead.pk}/"}
    assert (lead.email, lead.company, lead.state, lead.created_by) == (
        "priya@shahphysio.example",
        "Shah Physio",
        "received",
        "api_key:test-integration",
    )
    inbound = lead.inbound_messages.get()
    assert inbound.body == GOOD["message"]
    assert inbound.raw_payload["metadata"] == {"utm_source": "google"}
    assert len(callbacks) == 1  # processing is enqueued only once the lead is committed


def test_phone_only_lead_is_accepted_and_answered_by_sms(api):
    response = post(api, {"name": "Tom", "phone": "+44 7700 900123", "message": "Need a quote"})
    assert response.status_code == 202
    assert Lead.objects.get().preferred_channel == "sms"


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"name": "No contact", "message": "hi"}, "email", "email address or a phone number"),
        ({**GOOD, "email": "not-an-email"}, "email", "valid email"),
        ({**GOOD, "message": "x" * 10_001}, "message", "no more than 10000 characters"),
        ({**GOOD, "name": "n" * 201}, "name", "no more than 200 characters"),
        ({**GOOD, "name": 42}, "name", "Must be a string"),
        ({**GOOD, "email": ["a@b.example"]}, "email", "Must be a string"),
        ({**GOOD, "metadata": "not an object"}, "metadata", "dictionary"),
        ({**GOOD, "phone": "call me"}, "phone", "phone number"),
        ({**GOOD, "favourite_colour": "blue"}, "favourite_colour", "Unknown field"),
    ],
)
def test_bad_input_is_rejected_naming_the_field_and_nothing_is_stored(api, payload, field, fragment):
    response = post(api, payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert any(fragment in message for message in error["fields"][field]), error
    assert_nothing_stored()


def test_every_bad_field_is_reported_at_once(api):
    response = post(api, {"email": "nope", "name": 5, "extra": True})
    assert response.status_code == 400
    assert {"email", "name", "extra"} <= set(response.json()["error"]["fields"])


def test_malformed_json_is_a_400_with_a_json_error(api):
    response = post(api, '{"name": "broken",')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert_nothing_stored()


def test_a_json_array_instead_of_an_object_is_rejected(api):
    response = post(api, [GOOD])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert_nothing_stored()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer bp_000000000000_wrongsecret", "Bearer garbage", "Token abc"],
)
def test_missing_or_wrong_api_key_is_401_and_nothing_is_stored(client, db, header):
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post("/api/leads/", json.dumps(GOOD), content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_nothing_stored()


def test_a_revoked_key_no_longer_works(client, db):
    api_key, key = api_key_create(name="old-form")
    api_key_revoke(api_key_id=api_key.pk, actor="user:admin")
    response = client.post(
        "/api/leads/", json.dumps(GOOD), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 401


def test_same_idempotency_key_twice_returns_the_first_response_and_one_lead(api):
    first = post(api, GOOD, HTTP_IDEMPOTENCY_KEY="form-submission-123")
    second = post(api, GOOD, HTTP_IDEMPOTENCY_KEY="form-submission-123")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_422(api):
    post(api, GOOD, HTTP_IDEMPOTENCY_KEY="k1")
    response = post(api, {**GOOD, "message": "something else"}, HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Lead.objects.count() == 1


def test_idempotency_keys_expire_after_24_hours(api):
    from datetime import timedelta

    from django.utils import timezone

    post(api, GOOD, HTTP_IDEMPOTENCY_KEY="daily")
    InboundMessage.objects.update(received_at=timezone.now() - timedelta(hours=25))
    response = post(api, GOOD, HTTP_IDEMPOTENCY_KEY="daily")
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    # Processed again: the message is stored a second time, on the same person's lead.
    assert (InboundMessage.objects.count(), Lead.objects.count()) == (2, 1)
    assert response.json()["outcome"] == "attached"


def test_idempotency_keys_are_scoped_to_the_api_key(api, client):
    _, other_key = api_key_create(name="other")
    post(api, GOOD, HTTP_IDEMPOTENCY_KEY="shared")
    client.post(
        "/api/leads/",
        json.dumps(GOOD),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {other_key}",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert (InboundMessage.objects.count(), Lead.objects.count()) == (2, 1)


def test_an_overlong_idempotency_key_is_rejected(api):
    response = post(api, GOOD, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]
    assert_nothing_stored()


def test_expired_idempotency_keys_are_released_by_the_daily_purge_not_per_request(api):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    post(api, GOOD, HTTP_IDEMPOTENCY_KEY="old")
    post(api, {**GOOD, "email": "new@shop.example"}, HTTP_IDEMPOTENCY_KEY="new")
    InboundMessage.objects.filter(lead__email=GOOD["email"]).update(received_at=timezone.now() - timedelta(hours=25))
    keyed = InboundMessage.objects.exclude(provider_message_id="")
    assert keyed.count() == 2  # a request does not purge
    call_command("purge_expired")
    [kept] = keyed
    assert kept.lead.email == "new@shop.example" and kept.response_body["outcome"] == "new"
    assert InboundMessage.objects.count() == 2  # the expired key's message stays


def test_a_key_revoked_after_use_stops_working_at_once_here_and_within_the_cache_time_elsewhere(client, db, settings):
    from leads.models import ApiKey

    api_key, key = api_key_create(name="busy-form")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}", "content_type": "application/json"}
    assert client.post("/api/leads/", json.dumps(GOOD), **auth).status_code == 202  # verified and remembered
    # Revoked by another process (a row update this process did not make): remembered until the cache time ends.
    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=api_key.created_at)
    assert client.post("/api/leads/", json.dumps(GOOD), **auth).status_code == 202
    settings.API_KEY_CACHE_SECONDS = 0
    from leads.api_keys import api_keys_forget

    api_keys_forget()  # what the cache time's end amounts to
    assert client.post("/api/leads/", json.dumps(GOOD), **auth).status_code == 401
    # Revoked here: at once.
    other, other_key = api_key_create(name="second-form")
    settings.API_KEY_CACHE_SECONDS = 30
    other_auth = {**auth, "HTTP_AUTHORIZATION": f"Bearer {other_key}"}
    assert client.post("/api/leads/", json.dumps(GOOD), **other_auth).status_code == 202
    api_key_revoke(api_key_id=other.pk, actor="user:admin")
    assert client.post("/api/leads/", json.dumps(GOOD), **other_auth).status_code == 401
