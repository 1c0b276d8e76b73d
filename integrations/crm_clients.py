"""Talking to the CRMs: HubSpot through its official client (`hubspot-api-client`), Pipedrive through its REST API
(v1) with `requests` (it has no maintained Python client). Both speak the same small interface to integrations.crm:
find or create the contact, create or move the deal, write the note with the conversation, renew an OAuth token.

Every failure becomes one of four errors, which decide what the sync does next:
- `RateLimited` (429): try again after the CRM's Retry-After;
- `Unauthorized` (401): renew the token when it can be renewed, else pause the connection and tell a person;
- `Unavailable` (no answer, 5xx): try again with backoff;
- `Refused` (another 4xx): the CRM will not take this lead as it is; kept on the link for a person to see.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from django.conf import settings
from django.utils import timezone

from integrations.models import CrmConnection

DEFAULT_RETRY_AFTER = 10.0


class CrmError(Exception):
    pass


class RateLimited(CrmError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(CrmError):
    pass


class Unavailable(CrmError):
    pass


class Refused(CrmError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Gone(Refused):
    """The record is not there any more (deleted in the CRM): it is made again."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str
    company: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None


class CrmClient(Protocol):
    def contact_find(self, person: Person) -> str: ...
    def contact_create(self, person: Person, stage: str) -> str: ...
    def contact_update(self, contact_id: str, person: Person, stage: str) -> None: ...
    def deal_create(self, contact_id: str, title: str, stage: str) -> str: ...
    def deal_move(self, deal_id: str, stage: str) -> None: ...
    def note_write(self, note_id: str, contact_id: str, deal_id: str, text: str) -> str: ...
    def tokens_refresh(self) -> Tokens: ...


def retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (a number; an HTTP date is not sent by either CRM): 10 when absent."""
    try:
        return max(float(value or DEFAULT_RETRY_AFTER), 1.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER


def error_for(status: int, text: str, headers: Any) -> CrmError:
    brief = f"{status}: {text[:300]}"
    if status == 429:
        return RateLimited(f"rate limited ({brief})", retry_after(headers.get("Retry-After") if headers else None))
    if status == 401:
        return Unauthorized(f"the token was refused ({brief})")
    if status == 404:
        return Gone(f"not found ({brief})", status)
    if status >= 500:
        return Unavailable(f"the CRM failed ({brief})")
    return Refused(brief, status)


def crm_client(connection: CrmConnection) -> CrmClient:
    if connection.kind == CrmConnection.Kind.HUBSPOT:
        return HubSpotClient(connection)
    return PipedriveClient(connection)


def _names(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def _expiry(seconds: Any) -> datetime | None:
    return timezone.now() + timedelta(seconds=int(seconds)) if seconds else None


# HubSpot's default association types (v4): deal → contact, note → contact, note → deal.
DEAL_TO_CONTACT, NOTE_TO_CONTACT, NOTE_TO_DEAL = 3, 202, 214


class HubSpotClient:
    def __init__(self, connection: CrmConnection) -> None:
        from hubspot import HubSpot

        self.connection = connection
        self.api = HubSpot(access_token=connection.access_token, host=connection.api_base or "https://api.hubapi.com")
        self.timeout = settings.CRM_TIMEOUT_SECONDS

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import urllib3
        from hubspot.crm.contacts import ApiException as ContactsError
        from hubspot.crm.deals import ApiException as DealsError
        from hubspot.crm.objects.notes import ApiException as NotesError
        from hubspot.oauth import ApiException as OauthError

        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except (ContactsError, DealsError, NotesError, OauthError) as exc:
            if exc.status == 0 or exc.status is None:
                raise Unavailable(f"HubSpot did not answer: {exc.reason}") from exc
            raise error_for(exc.status, str(exc.body or exc.reason), exc.headers) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable(f"HubSpot did not answer: {type(exc).__name__}") from exc

    def _properties(self, person: Person, stage: str) -> dict[str, str]:
        first, last = _names(person.name)
        values = {"email": person.email, "firstname": first, "lastname": last, "phone": person.phone}
        values["company"] = person.company
        if stage:
            values["lifecyclestage"] = stage
        return {key: value for key, value in values.items() if value}

    def contact_find(self, person: Person) -> str:
        from hubspot.crm.contacts import PublicObjectSearchRequest

        field, value = ("email", person.email) if person.email else ("phone", person.phone)
        if not value:
            return ""
        search = PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": field, "operator": "EQ", "value": value}]}],
            properties=["email"],
            limit=1,
        )
        found = self._call(self.api.crm.contacts.search_api.do_search, public_object_search_request=search)
        return str(found.results[0].id) if found.results else ""

    def contact_create(self, person: Person, stage: str) -> str:
        from hubspot.crm.contacts import SimplePublicObjectInputForCreate

        body = SimplePublicObjectInputForCreate(properties=self._properties(person, stage))
        return str(self._call(self.api.crm.contacts.basic_api.create, simple_public_object_input_for_create=body).id)

    def contact_update(self, contact_id: str, person: Person, stage: str) -> None:
        from hubspot.crm.contacts import SimplePublicObjectInput

        body = SimplePublicObjectInput(properties=self._properties(person, stage))
        self._call(self.api.crm.contacts.basic_api.update, contact_id, simple_public_object_input=body)

    def deal_create(self, contact_id: str, title: str, stage: str) -> str:
        from hubspot.crm.deals import SimplePublicObjectInputForCreate

        properties = {"dealname": title, "dealstage": stage, "pipeline": self.connection.pipeline or "default"}
        body = SimplePublicObjectInputForCreate(properties=properties, associations=[_to(contact_id, DEAL_TO_CONTACT)])
        return str(self._call(self.api.crm.deals.basic_api.create, simple_public_object_input_for_create=body).id)

    def deal_move(self, deal_id: str, stage: str) -> None:
        from hubspot.crm.deals import SimplePublicObjectInput

        body = SimplePublicObjectInput(properties={"dealstage": stage})
        self._call(self.api.crm.deals.basic_api.update, deal_id, simple_public_object_input=body)

    def note_write(self, note_id: str, contact_id: str, deal_id: str, text: str) -> str:
        from hubspot.crm.objects.notes import SimplePublicObjectInput, SimplePublicObjectInputForCreate

        properties = {"hs_note_body": html.escape(text).replace("\n", "<br>")}
        if note_id:
            body = SimplePublicObjectInput(properties=properties)
            self._call(self.api.crm.objects.notes.basic_api.update, note_id, simple_public_object_input=body)
            return note_id
        properties["hs_timestamp"] = timezone.now().isoformat()
        links = [_to(contact_id, NOTE_TO_CONTACT)] + ([_to(deal_id, NOTE_TO_DEAL)] if deal_id else [])
        body = SimplePublicObjectInputForCreate(properties=properties, associations=links)
        created = self._call(self.api.crm.objects.notes.basic_api.create, simple_public_object_input_for_create=body)
        return str(created.id)

    def tokens_refresh(self) -> Tokens:
        answer = self._call(
            self.api.oauth.tokens_api.create,
            grant_type="refresh_token",
            client_id=self.connection.client_id,
            client_secret=self.connection.client_secret,
            refresh_token=self.connection.refresh_token,
        )
        return Tokens(
            answer.access_token, answer.refresh_token or self.connection.refresh_token, _expiry(answer.expires_in)
        )


def _to(object_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": object_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


class PipedriveClient:
    """Pipedrive's REST API v1. An API token goes in the `api_token` query parameter; an OAuth access token (when a
    refresh token is set) in the Authorization header."""

    TOKEN_URL = "https://oauth.pipedrive.com/oauth/token"

    def __init__(self, connection: CrmConnection) -> None:
        self.connection = connection
        self.base = (connection.api_base or "https://api.pipedrive.com").rstrip("/") + "/v1"
        self.session = requests.Session()
        self.timeout = settings.CRM_TIMEOUT_SECONDS

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        if self.connection.refresh_token:
            return {"Authorization": f"Bearer {self.connection.access_token}"}, {}
        return {}, {"api_token": self.connection.access_token}

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        headers, auth_params = self._auth()
        try:
            response = self.session.request(
                method,
                self.base + path,
                params={**(params or {}), **auth_params},
                json=json,
                headers=headers,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise Unavailable(f"Pipedrive did not answer: {type(exc).__name__}") from exc
        if not 200 <= response.status_code < 300:
            raise error_for(response.status_code, response.text, response.headers)
        try:
            answer = response.json()
        except ValueError as exc:
            raise Unavailable(f"Pipedrive answered {response.status_code} without JSON") from exc
        if not answer.get("success", False):
            raise Refused(str(answer.get("error") or answer)[:300], response.status_code)
        return answer.get("data")

    def _person(self, person: Person) -> dict[str, Any]:
        body: dict[str, Any] = {"name": person.name or person.email or person.phone}
        if person.email:
            body["email"] = [{"value": person.email, "primary": True, "label": "work"}]
        if person.phone:
            body["phone"] = [{"value": person.phone, "primary": True, "label": "mobile"}]
        return body

    def contact_find(self, person: Person) -> str:
        field, value = ("email", person.email) if person.email else ("phone", person.phone)
        if len(value) < 2:
            return ""
        found = self._request(
            "GET", "/persons/search", params={"term": value, "fields": field, "exact_match": "true", "limit": 1}
        )
        items = (found or {}).get("items") or []
        return str(items[0]["item"]["id"]) if items else ""

    def contact_create(self, person: Person, stage: str) -> str:
        return str(self._request("POST", "/persons", json=self._person(person))["id"])

    def contact_update(self, contact_id: str, person: Person, stage: str) -> None:
        self._request("PUT", f"/persons/{contact_id}", json=self._person(person))

    def deal_create(self, contact_id: str, title: str, stage: str) -> str:
        body: dict[str, Any] = {"title": title, "person_id": int(contact_id), "stage_id": int(stage)}
        if self.connection.pipeline:
            body["pipeline_id"] = int(self.connection.pipeline)
        return str(self._request("POST", "/deals", json=body)["id"])

    def deal_move(self, deal_id: str, stage: str) -> None:
        self._request("PUT", f"/deals/{deal_id}", json={"stage_id": int(stage)})

    def note_write(self, note_id: str, contact_id: str, deal_id: str, text: str) -> str:
        content = html.escape(text).replace("\n", "<br>")
        if note_id:
            self._request("PUT", f"/notes/{note_id}", json={"content": content})
            return note_id
        body: dict[str, Any] = {"content": content, "person_id": int(contact_id)}
        if deal_id:
            body["deal_id"] = int(deal_id)
        return str(self._request("POST", "/notes", json=body)["id"])

    def tokens_refresh(self) -> Tokens:
        url = (self.connection.api_base.rstrip("/") + "/oauth/token") if self.connection.api_base else self.TOKEN_URL
        try:
            response = self.session.post(
                url,
                data={"grant_type": "refresh_token", "refresh_token": self.connection.refresh_token},
                auth=(self.connection.client_id, self.connection.client_secret),
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise Unavailable(f"Pipedrive's token service did not answer: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise error_for(response.status_code, response.text, response.headers)
        answer = response.json()
        return Tokens(
            answer["access_token"],
            answer.get("refresh_token") or self.connection.refresh_token,
            _expiry(answer.get("expires_in")),
        )
