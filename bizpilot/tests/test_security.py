"""The web's defences: strict headers and a CSP on every page (Swagger UI and the admin still work under it),
webhook bodies over the limit refused before anything is read, the API throttled per key, and wrong API keys and
wrong admin passwords throttled per client address, logged without the secret tried."""

from __future__ import annotations

import logging

import pytest

pytestmark = pytest.mark.django_db


def test_pages_carry_a_content_security_policy_and_strict_headers(admin_client):
    for url in ("/admin/", "/analytics/", "/api/docs/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]  # no inline script allowed
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin" and "camera=()" in response["Permissions-Policy"]
    assert "no-store" in admin_client.get("/analytics/")["Cache-Control"]


def test_swagger_ui_needs_no_inline_script(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")  # every script is a file this server serves
    assert admin_client.get("/api/docs/?script=").status_code == 200  # the split view's start-up script


def test_a_webhook_body_over_the_limit_is_refused_with_413(client, settings):
    settings.WEBHOOK_MAX_BYTES = 1000
    for url in ("/webhooks/twilio/messages/", "/webhooks/forms/any/", "/webhooks/typeform/any/"):
        response = client.post(url, data="x" * 2000, content_type="application/json")
        assert response.status_code == 413, url
        assert response.json()["error"]["code"] == "too_large"
    from leads.models import InboundMessage

    assert not InboundMessage.objects.exists()


def test_the_api_is_throttled_per_key(api, settings):
    settings.API_RATE_LIMIT = "3/minute"
    statuses = [api.get("/api/messages/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = api.get("/api/messages/")
    assert refused.json()["error"]["code"] == "throttled" and int(refused["Retry-After"]) > 0


def test_wrong_api_keys_are_throttled_per_address_and_never_logged(client, api_key, settings, caplog):
    settings.AUTH_FAILURES_PER_MINUTE = 3
    wrong = "bp_deadbeef0000_thisIsNotAKeyAtAll0000000000000000000"
    with caplog.at_level(logging.WARNING):
        statuses = [client.get("/api/messages/", HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Even the right key is refused from that address until the minute is over: guessing gains nothing.
    assert client.get("/api/messages/", HTTP_AUTHORIZATION=f"Bearer {api_key}").status_code == 429
    other = client.get("/api/messages/", HTTP_AUTHORIZATION=f"Bearer {api_key}", REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 200  # another address is not punished
    logged = " ".join(record.getMessage() for record in caplog.records) + " ".join(map(str, caplog.records))
    assert wrong not in logged and "thisIsNotAKey" not in logged


def test_the_admin_login_is_throttled_per_address(client, django_user_model, settings):
    settings.AUTH_FAILURES_PER_MINUTE = 3
    django_user_model.objects.create_superuser("boss", "boss@example.com", "right-password")
    for _ in range(3):
        page = client.post("/admin/login/", {"username": "boss", "password": "wrong"})
        assert page.status_code == 200  # the form again, with its error
    blocked = client.post("/admin/login/", {"username": "boss", "password": "right-password"})
    assert blocked.status_code == 429 and "Retry-After" in blocked
    elsewhere = client.post("/admin/login/", {"username": "boss", "password": "right-password"}, REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302  # logged in from another address
