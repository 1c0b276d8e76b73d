"""`Authorization: Bearer <api key>` for the REST API."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from leads.models import ApiKey
from leads.services import api_key_verify


class ApiKeyPrincipal:
    """The authenticated caller when an integration uses an API key (request.user)."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.actor = f"api_key:{api_key.name}"
        self.pk = None

    def __str__(self) -> str:
        return self.actor


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("The Authorization header has no API key after 'Bearer'.")
        api_key = api_key_verify(key=key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "leads.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `python manage.py create_api_key NAME`.",
        }


def request_actor(request) -> str:
    """How the audit log names whoever made this API request."""
    user = request.user
    if isinstance(user, ApiKeyPrincipal):
        return user.actor
    return f"user:{user.get_username()}"


def request_user(request):
    """The person behind an API request (None for an integration's API key, which is authorised by the key)."""
    user = request.user
    return None if isinstance(user, ApiKeyPrincipal) or not user.is_authenticated else user
