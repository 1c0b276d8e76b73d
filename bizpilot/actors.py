"""Who did something, as the audit log and every service name them: `user:<name>`, `api_key:<name>` or
`system:<component>`. One module, so no app spells an actor by hand."""

from __future__ import annotations

from typing import Any

PIPELINE = "system:pipeline"
AUTO_SEND = "system:auto-send"
CLI = "system:cli"
SEED_DEMO = "system:seed_demo"
DEFAULT_TEMPLATES = "system:defaults"
SEQUENCES = "system:sequences"


class Principal:
    """A caller that is not a person (an integration's API key): authenticated by its own credential, named by
    `actor`. Authentication backends of the apps subclass it."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    pk = None

    def __init__(self, actor: str):
        self.actor = actor

    def __str__(self) -> str:
        return self.actor


def user_actor(user: Any) -> str:
    """A person as an actor; no user at all is the pipeline acting on its own."""
    if user is None:
        return PIPELINE
    if isinstance(user, Principal):
        return user.actor
    return f"user:{user.get_username()}"


def request_actor(request: Any) -> str:
    """Whoever made this request (a person or an API key), as the audit log names them."""
    return user_actor(request.user)


def request_user(request: Any) -> Any | None:
    """The person behind a request, for permission checks; None for an API key, which its own key authorises."""
    user = request.user
    return None if isinstance(user, Principal) or not user.is_authenticated else user
