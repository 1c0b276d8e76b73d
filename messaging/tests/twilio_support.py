"""Twilio in tests: the REST API served by a local stub (the real `twilio` client talks to it), and inbound
webhooks signed as Twilio signs them. The `twilio` fixture is shared through the root conftest."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from intelligence.tests.anthropic_stub import AnthropicStub

TOKEN = "twilio-auth-token-123"
SID = "AC00000000000000000000000000000001"


@pytest.fixture
def twilio(settings):
    """Twilio switched on, its REST API served by a local stub."""
    stub = AnthropicStub().start()
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+441134960000"
    settings.TWILIO_WHATSAPP_FROM = "+441134960001"
    settings.TWILIO_API_BASE_URL = stub.base_url
    settings.PUBLIC_BASE_URL = "https://bizpilot.example.com"
    yield stub
    stub.stop()


def inbound_params(body="Hi, do you build restaurant websites?", sender="+447700900123", sid="SM0001", **extra):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SID,
        "From": sender,
        "To": "+441134960000",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def post_signed(client, path, params, *, url=None, token=TOKEN):
    """POST as Twilio does: form-encoded, signed over the public URL with the account's auth token."""
    signed_url = url or f"https://bizpilot.example.com{path}"
    signature = RequestValidator(token).compute_signature(signed_url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
