"""Email threads: which lead's conversation an inbound email belongs to, whoever sent it.

Every email we send carries a Message-ID of ours that names the lead and the message and is signed
(`<bp.<lead>.<message>.<signature>@<domain>>`), and, when INBOUND_EMAIL_DOMAIN is set, a signed per-lead reply
address (`Reply-To: reply+<lead>.<signature>@<domain>`). An answer is matched by its In-Reply-To or References first
(our Message-ID, or the Message-ID of an email the lead sent us), then by the reply address it was sent to, and only
then by the sender's address. So a colleague answering from another address lands in the same thread. Signatures
are HMACs under SECRET_KEY: a forged or guessed id matches nothing."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

from django.conf import settings

from bizpilot.business import business
from leads.models import InboundMessage, Lead

_SIGNATURE_LENGTH = 12
_OUR_MESSAGE_ID = re.compile(r"<?bp\.(\d+)\.(\d+)\.([0-9a-f]{12})@[^>\s]+>?", re.IGNORECASE)
_REPLY_ADDRESS = re.compile(r"reply\+(\d+)\.([0-9a-f]{12})@([^>\s,]+)", re.IGNORECASE)
_ANGLE_IDS = re.compile(r"<[^<>\s]+>")


def _signature(*parts: object) -> str:
    key = f"bizpilot.threads:{settings.SECRET_KEY}".encode()
    message = ".".join(str(p) for p in parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_SIGNATURE_LENGTH]


def email_domain() -> str:
    return business().email_domain


def thread_message_id(*, lead_id: int, message_id: int) -> str:
    """Our Message-ID for an email to a lead: it names the lead and the message, signed."""
    return f"<bp.{lead_id}.{message_id}.{_signature('m', lead_id, message_id)}@{email_domain()}>"


def reply_address(*, lead_id: int) -> str:
    """The lead's own reply address (empty when INBOUND_EMAIL_DOMAIN is not set)."""
    domain = settings.INBOUND_EMAIL_DOMAIN.strip()
    if not domain:
        return ""
    return f"reply+{lead_id}.{_signature('r', lead_id)}@{domain}"


def message_ids(header: str) -> list[str]:
    """The <...> ids in an In-Reply-To or References header, in order."""
    return _ANGLE_IDS.findall(header or "")


def thread_lead_id(*, in_reply_to: str = "", references: str = "", recipients: Iterable[str] = ()) -> int | None:
    """The lead whose thread an inbound email answers: by its In-Reply-To, then its References (newest first), then
    a reply address it was sent to. None when nothing of ours matches (the sender's address decides then)."""
    for ref in [*message_ids(in_reply_to), *reversed(message_ids(references))]:
        lead_id = _lead_of_message_id(ref)
        if lead_id is not None:
            return lead_id
    for recipient in recipients:
        for match in _REPLY_ADDRESS.finditer(recipient or ""):
            lead_id = int(match.group(1))
            if hmac.compare_digest(match.group(2).lower(), _signature("r", lead_id)) and _live(lead_id):
                return lead_id
    return None


def _lead_of_message_id(ref: str) -> int | None:
    match = _OUR_MESSAGE_ID.fullmatch(ref)
    if match:
        lead_id, message_id, signature = int(match.group(1)), int(match.group(2)), match.group(3).lower()
        if hmac.compare_digest(signature, _signature("m", lead_id, message_id)) and _live(lead_id):
            return lead_id
        return None
    # An email the lead (or someone in the thread) sent us earlier: its Message-ID is its delivery id.
    return (
        InboundMessage.objects.filter(channel="email", provider_message_id=ref[:255], lead__erased_at__isnull=True)
        .values_list("lead_id", flat=True)
        .first()
    )


def _live(lead_id: int) -> bool:
    return Lead.objects.filter(pk=lead_id, erased_at__isnull=True).exists()
