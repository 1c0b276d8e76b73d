"""The web's defences that every app shares: a Content-Security-Policy and other strict headers on every response,
a size limit on webhook bodies, and throttles on failed logins and wrong API keys per client address (the keys and
passwords tried are never logged)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

log = structlog.get_logger(__name__)

# Pages load only what this server serves: no CDN, no inline script (the admin and Swagger UI need none), inline
# style attributes allowed (the admin's widgets set them), images from here or data: URLs, never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """CSP, Permissions-Policy and a no-store cache rule for what a logged-in person sees (Django's
    SecurityMiddleware adds nosniff, Referrer-Policy and Cross-Origin-Opener-Policy; HSTS in production)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.path.startswith(("/admin/", "/analytics/")):
            response.setdefault("Cache-Control", "no-store, private")
        return response


def body_limited(max_bytes: int | Callable[[], int]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A webhook view that refuses a body over `max_bytes` with 413 before reading it (the Content-Length a client
    states, then what actually arrived)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = max_bytes() if callable(max_bytes) else max_bytes
            try:
                stated = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                stated = 0
            if stated > limit:
                from bizpilot.api_errors import error_response  # (it imports DRF, whose settings import us)

                log.warning("webhook.too_large", path=request.path, bytes=stated, limit=limit)
                return error_response(413, "too_large", f"The body is {stated} bytes; at most {limit} are accepted.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def client_address(request: Any) -> str:
    """The caller's address: REMOTE_ADDR, or the first X-Forwarded-For hop when behind a trusted proxy."""
    meta = getattr(request, "META", {})
    if settings.TRUST_X_FORWARDED_FOR and meta.get("HTTP_X_FORWARDED_FOR"):
        return str(meta["HTTP_X_FORWARDED_FOR"]).split(",")[0].strip()
    return str(meta.get("REMOTE_ADDR", "unknown"))


def throttle_count(key: str, window_seconds: int) -> int:
    """Count one more for `key` in the throttle cache: how many in its window, which starts at the first."""
    cache = caches["throttle"]
    cache.add(key, 0, window_seconds)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        return 1


class FailureThrottle:
    """Counts failures (a wrong API key, a wrong password) per client address in a window; past the limit the
    address is refused until the window ends. Kept in the throttle cache (bizpilot.settings CACHES)."""

    def __init__(self, name: str, *, limit: Callable[[], int], window_seconds: int = 60):
        self.name, self.limit, self.window = name, limit, window_seconds

    def _key(self, address: str) -> str:
        return f"failures:{self.name}:{address}"

    def blocked(self, address: str) -> bool:
        return int(caches["throttle"].get(self._key(address), 0)) >= self.limit()

    def record(self, address: str) -> int:
        count = throttle_count(self._key(address), self.window)
        log.warning("auth.failed", kind=self.name, client=address, failures=count)
        return count

    def clear(self, address: str) -> None:
        caches["throttle"].delete(self._key(address))


API_KEY_FAILURES = FailureThrottle("api_key", limit=lambda: settings.AUTH_FAILURES_PER_MINUTE)
LOGIN_FAILURES = FailureThrottle("login", limit=lambda: settings.AUTH_FAILURES_PER_MINUTE)


class LoginThrottleMiddleware:
    """The admin login: after AUTH_FAILURES_PER_MINUTE wrong passwords from one address, it answers 429 for the
    rest of the minute (django.contrib.auth's user_login_failed counts them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.path == settings.LOGIN_PATH
            and LOGIN_FAILURES.blocked(client_address(request))
        ):
            response = HttpResponse(
                "Too many failed logins from your address: try again in a minute.",
                status=429,
                content_type="text/plain",
            )
            response["Retry-After"] = str(LOGIN_FAILURES.window)
            return response
        return self.get_response(request)


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    if request is not None:
        LOGIN_FAILURES.record(client_address(request))
