"""Local HubSpot and Pipedrive for tests: HTTP servers that speak the parts of each CRM's REST API BizPilot uses, in
their wire formats (HubSpot CRM v3 objects, search and OAuth v1 tokens; Pipedrive v1 `{"success", "data"}`,
persons search and OAuth tokens), keep what they are sent, and can be told to rate-limit (429 with Retry-After) or to
treat the access token as expired (401) until it is renewed with the refresh token."""

from __future__ import annotations

import abc
import base64
import itertools
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bizpilot.tests.http_stub import LocalServer, StubHandler

NOW = "2026-12-05T09:00:00.000Z"


class CrmStub(LocalServer, abc.ABC):
    """Common: the server, the request log, the faults."""

    def __init__(self, *, token: str = "token-1", refresh_token: str = "refresh-1"):
        self.token, self.refresh_token = token, refresh_token
        self.objects: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.rate_limit_next = 0
        self.retry_after = "2"
        self.token_expired = False
        self.ids = itertools.count(1001)
        self.lock = threading.Lock()
        stub = self

        class Handler(StubHandler):
            def _handle(self):
                raw = self.body()
                url = urlsplit(self.path)
                with stub.lock:
                    body = stub.parse(self.headers.get("Content-Type", ""), raw)
                    stub.requests.append((self.command, url.path, body))
                    status, answer, headers = stub.answer(
                        self.command, url.path, parse_qs(url.query), body, self.headers
                    )
                self.reply(status, answer, headers=headers)

            do_GET = do_POST = do_PATCH = do_PUT = _handle

        super().__init__(Handler)
        self.start()

    @property
    def url(self) -> str:
        return self.base_url

    @staticmethod
    def parse(content_type: str, raw: bytes) -> Any:
        if not raw:
            return None
        if "json" in content_type:
            return json.loads(raw)
        return {key: values[0] for key, values in parse_qs(raw.decode()).items()}

    def of(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(kind, {})

    def calls(self, method: str, prefix: str) -> list[Any]:
        return [body for m, path, body in self.requests if m == method and path.startswith(prefix)]

    @abc.abstractmethod
    def answer(self, method: str, path: str, query: dict, body: Any, headers: Any) -> tuple[int, Any, dict]:
        """Each CRM's stub answers in its own format: (status, JSON body, headers)."""


class HubSpotStub(CrmStub):
    KINDS = {"contacts": "contacts", "deals": "deals", "notes": "notes"}

    def _object(self, kind: str, properties: dict[str, Any], object_id: str | None = None) -> dict[str, Any]:
        record = {
            "id": object_id or str(next(self.ids)),
            "properties": properties,
            "createdAt": NOW,
            "updatedAt": NOW,
            "archived": False,
        }
        return record

    def answer(self, method, path, query, body, headers):
        if path == "/oauth/v1/token":
            if body.get("refresh_token") != self.refresh_token or body.get("client_secret") != "app-secret":
                return 400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}, {}
            self.token, self.token_expired = self.token + "x", False
            answer = {"access_token": self.token, "refresh_token": self.refresh_token, "expires_in": 1800}
            return 200, {**answer, "token_type": "bearer"}, {}
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            error = {"status": "error", "message": "You have reached your secondly limit.", "category": "RATE_LIMITS"}
            return 429, {**error, "correlationId": "c-1"}, {"Retry-After": self.retry_after}
        if self.token_expired or headers.get("Authorization") != f"Bearer {self.token}":
            message = "The OAuth token used to make this call expired 5 minute(s) ago."
            return 401, {"status": "error", "message": message, "category": "EXPIRED_AUTHENTICATION"}, {}
        parts = path.strip("/").split("/")  # crm v3 objects <kind> [id | search]
        if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4:
            return 404, {"status": "error", "message": f"no route {path}", "category": "OBJECT_NOT_FOUND"}, {}
        kind, store = parts[3], self.of(parts[3])
        if len(parts) == 5 and parts[4] == "search" and method == "POST":
            wanted = body["filterGroups"][0]["filters"][0]
            found = [
                record
                for record in store.values()
                if record["properties"].get(wanted["propertyName"]) == wanted["value"]
            ]
            return 200, {"total": len(found), "results": found[: body.get("limit", 10)]}, {}
        if len(parts) == 4 and method == "POST":
            record = self._object(kind, dict(body["properties"]))
            record["associations"] = body.get("associations", [])
            store[record["id"]] = record
            return 201, {key: value for key, value in record.items() if key != "associations"}, {}
        if len(parts) == 5 and method == "PATCH":
            if parts[4] not in store:
                return 404, {"status": "error", "message": "Object not found", "category": "OBJECT_NOT_FOUND"}, {}
            store[parts[4]]["properties"].update(body["properties"])
            record = store[parts[4]]
            return 200, {key: value for key, value in record.items() if key != "associations"}, {}
        return 405, {"status": "error", "message": "not supported by the stub", "category": "VALIDATION_ERROR"}, {}


class PipedriveStub(CrmStub):
    """Pipedrive v1. The API token in `api_token`; with OAuth, a Bearer token renewed at /oauth/token with HTTP Basic
    client credentials."""

    def __init__(self, *, api_token: str = "pd-token", **kwargs: Any):
        super().__init__(**kwargs)
        self.api_token = api_token

    def answer(self, method, path, query, body, headers):
        if path == "/oauth/token":
            expected = "Basic " + base64.b64encode(b"client-1:app-secret").decode()
            if headers.get("Authorization") != expected or body.get("refresh_token") != self.refresh_token:
                return 401, {"success": False, "message": "Invalid client or refresh token"}, {}
            self.token, self.token_expired = self.token + "x", False
            answer = {"access_token": self.token, "token_type": "Bearer", "refresh_token": self.refresh_token}
            return 200, {**answer, "expires_in": 3599, "scope": "deals:full", "api_domain": self.url}, {}
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            error = {"success": False, "error": "Request over limit", "errorCode": 429}
            return 429, error, {"Retry-After": self.retry_after, "x-ratelimit-remaining": "0"}
        given = query.get("api_token", [""])[0]
        authorised = (given and given == self.api_token) or (
            headers.get("Authorization") == f"Bearer {self.token}" and not self.token_expired
        )
        if not authorised:
            return 401, {"success": False, "error": "unauthorized access", "errorCode": 401}, {}
        parts = path.strip("/").split("/")  # v1 <kind> [id | search]
        if parts[0] != "v1" or len(parts) < 2:
            return 404, {"success": False, "error": "Unknown method ."}, {}
        _kind, store = parts[1], self.of(parts[1])
        if len(parts) == 3 and parts[2] == "search":
            field, term = query["fields"][0], query["term"][0]
            items = [
                {"result_score": 1.0, "item": {"id": record["id"], "type": "person", "name": record.get("name")}}
                for record in store.values()
                if any(entry["value"] == term for entry in record.get(field) or [])
            ]
            return 200, {"success": True, "data": {"items": items}, "additional_data": {"pagination": {}}}, {}
        if len(parts) == 2 and method == "POST":
            record = {"id": next(self.ids), **body}
            store[str(record["id"])] = record
            return 201, {"success": True, "data": record}, {}
        if len(parts) == 3 and method == "PUT":
            if parts[2] not in store:
                return 404, {"success": False, "error": "Not found", "errorCode": 404}, {}
            store[parts[2]].update(body)
            return 200, {"success": True, "data": store[parts[2]]}, {}
        return 405, {"success": False, "error": "not supported by the stub"}, {}
