"""`Authorization: Bearer <api key>` for the REST API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling
from rest_framework.request import Request

from bizpilot.actors import Principal
from bizpilot.security import API_KEY_FAILURES, client_address
from leads.api_keys import api_key_verify
from leads.models import ApiKey


class ApiKeyPrincipal(Principal):
    """The authenticated caller when an integration uses an API key (request.user)."""

    def __init__(self, api_key: ApiKey):
        super().__init__(f"api_key:{api_key.name}")
        self.api_key = api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        address = client_address(request)
        if API_KEY_FAILURES.blocked(address):  # guessing keys: refused before any key is even checked
            raise exceptions.Throttled(
                wait=API_KEY_FAILURES.window, detail="Too many wrong API keys from your address."
            )
        key = key.strip()
        api_key = api_key_verify(key=key) if key else None
        if api_key is None:
            API_KEY_FAILURES.record(address)  # logged with the address, never the key
            if not key:
                raise exceptions.AuthenticationFailed("The Authorization header has no API key after 'Bearer'.")
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """At most API_RATE_LIMIT requests per API key (a logged-in admin's session: per user); 429 past it."""

    cache = caches["throttle"]
    scope = "api_key"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def allow_request(self, request: Any, view: Any) -> bool:
        self.rate = self.get_rate()  # read per request: the setting can change (and does in tests)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey):
            return f"throttle:api_key:{auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "pk", None):
            return f"throttle:user:{user.pk}"
        return None  # unauthenticated: refused by the permission check anyway


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "leads.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `python manage.py create_api_key NAME`.",
        }
