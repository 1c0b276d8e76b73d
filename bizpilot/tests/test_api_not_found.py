"""Every answer under /api/ is JSON, a path that names no endpoint too, with DEBUG on (as under `make run`) or off;
an Idempotency-Key outside its documented pattern is refused."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/leads/null,null/", "/api/nothing-here/", "/api/leads/1"])
def test_an_unknown_api_path_is_a_json_404(api, settings, debug, path):
    settings.DEBUG = debug
    response = api.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("key", [" ", "key with spaces", "ключ", "x" * 256])
def test_an_idempotency_key_outside_its_pattern_is_refused(api, key):
    body = {"email": "kim@example.org", "message": "Hello"}
    response = api.post("/api/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]


def test_a_post_or_delete_to_an_unknown_api_path_is_a_json_404_too(api):
    for response in (api.post("/api/leads/null,null/intent/", {"intent": "hot"}, format="json"), api.delete("/api/x/")):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
