"""Taking leads in from every channel (API, webhooks, inbound email, texts): stored durably, deduplicated by person
and by the provider's delivery id, and announced with `lead_received` (its jobs commit with the lead) and
`lead_wrote_again` (once committed)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizpilot.audit import audit_record
from bizpilot.errors import IdempotencyConflict, ValidationFailed
from leads.autoreply import AutoReply
from leads.contacts import InvalidPhone, normalize_email, normalize_phone
from leads.identity import fill_blanks, known_lead, lock_identities
from leads.lifecycle import lead_transition
from leads.models import Channel, InboundMessage, Integration, Lead
from leads.signals import lead_auto_replied, lead_received, lead_wrote_again

logger = logging.getLogger(__name__)
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LeadInput:
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    subject: str = ""
    message: str = ""
    source: str = "api"
    metadata: dict[str, Any] | None = None


def storable(value: Any) -> Any:
    """JSON as PostgreSQL can keep it: jsonb holds no NUL character, so one in a key or a value (a form or a provider
    may send it) becomes U+FFFD instead of failing the whole delivery."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def lead_ingest(
    *,
    data: LeadInput,
    channel: str,
    actor: str,
    raw_payload: dict[str, Any],
    provider_message_id: str = "",
    request_fingerprint: str = "",
    thread_lead_id: int | None = None,
    automated: AutoReply | None = None,
) -> Lead:
    """Store an inbound message, durably, from any source.

    A new person becomes a new lead, processed once the transaction commits. A known person (the same email,
    compared case-insensitively, or the same phone number in E.164) gets the message attached to their lead and
    `lead_wrote_again` is sent; if we had already contacted them it is a reply and the lead becomes `replied`. A
    provider's retry with an id already stored creates nothing. The returned lead carries `ingest_outcome`: new,
    attached, reply or duplicate. With a `request_fingerprint` (an Idempotency-Key's request) the delivery id is
    not looked up first: the unique index catches a repeat, and the response is stored for replay.

    `thread_lead_id`: the message answers that lead's thread (an email's In-Reply-To, References or per-lead reply
    address), whoever sent it; a sender other than the lead is kept as the message's `from_address`. `automated`:
    an auto-reply from a known lead is stored (outcome `auto_reply`) but is no reply: the state stays and
    `lead_auto_replied` is sent instead of `lead_wrote_again`.
    """
    email = normalize_email(data.email)
    try:
        phone = normalize_phone(data.phone)
    except InvalidPhone as exc:
        raise ValidationFailed("Invalid phone number.", fields={"phone": [str(exc)]}) from exc
    if not email and not phone:
        msg = "Provide an email address or a phone number."
        raise ValidationFailed(msg, fields={"email": [msg], "phone": [msg]})
    duplicate = None if request_fingerprint else _known_delivery(channel, provider_message_id)
    if duplicate is not None:
        return duplicate
    try:
        with transaction.atomic():
            lock_identities(email, phone)  # two deliveries from one new person cannot both create a lead
            thread_lead = _thread_lead(thread_lead_id)
            lead = thread_lead or known_lead(email, phone)
            from_address = ""
            if thread_lead is not None and email and email.lower() != thread_lead.email.lower():
                from_address = email  # a colleague answered in the lead's thread
            if lead is None:
                lead = Lead.objects.create(
                    name=data.name.strip(),
                    email=email,
                    phone=phone,
                    company=data.company.strip(),
                    source=data.source or "api",
                    preferred_channel=Channel.EMAIL
                    if email
                    else (Channel.WHATSAPP if channel == "whatsapp" else Channel.SMS),
                    metadata=storable(data.metadata or {}),
                    created_by=actor,
                )
                outcome = "new"
            else:
                if not from_address:
                    fill_blanks(lead, name=data.name.strip(), email=email, phone=phone, company=data.company.strip())
                outcome = "reply" if lead.state in {Lead.State.CONTACTED, Lead.State.REPLIED} else "attached"
                if automated is not None:
                    outcome = "auto_reply"
            replied = outcome == "reply" and lead.state == Lead.State.CONTACTED
            state = Lead.State.REPLIED if replied else lead.state
            inbound = InboundMessage.objects.create(
                lead=lead,
                channel=channel,
                subject=data.subject.strip(),
                body=data.message,
                raw_payload=storable(raw_payload),
                provider_message_id=provider_message_id,
                request_fingerprint=request_fingerprint,
                response_body=accepted_body(lead.pk, state, outcome) if request_fingerprint else None,
                from_address=from_address,
                automated_reason=automated.reason[:300] if automated else "",
                automated_until=automated.returns_at if automated else None,
            )
            after = {"source": data.source or "api", "channel": channel, "inbound_id": inbound.pk, "outcome": outcome}
            audit_record(actor=actor, action="lead.ingest", obj=lead, after=after)
            # Every later line of this request, and the jobs it enqueues, are about this lead.
            structlog.contextvars.bind_contextvars(lead_id=lead.pk)
            log.info("lead.ingested", inbound_id=inbound.pk, channel=channel, outcome=outcome)
            if outcome == "new":
                # In the transaction: the receivers queue their jobs to commit with the lead (leads.signals).
                lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk)
            elif outcome == "auto_reply":
                returns_at = automated.returns_at if automated else None
                transaction.on_commit(
                    lambda: lead_auto_replied.send(
                        sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk, returns_at=returns_at
                    ),
                    robust=True,
                )
            else:
                if replied:
                    lead_transition(lead=lead, to_state=Lead.State.REPLIED, actor=actor)
                transaction.on_commit(
                    lambda: lead_wrote_again.send(
                        sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk, is_reply=outcome == "reply"
                    ),
                    robust=True,
                )
    except IntegrityError:
        # The same provider delivery raced in on another connection and won: it is stored once.
        duplicate = _known_delivery(channel, provider_message_id)
        if duplicate is None:
            raise
        return duplicate
    lead.ingest_outcome = outcome
    return lead


def _thread_lead(lead_id: int | None) -> Lead | None:
    """The lead whose thread a message answers, locked (None: no thread, or the lead was erased)."""
    if lead_id is None:
        return None
    return Lead.objects.select_for_update().filter(pk=lead_id, erased_at__isnull=True).first()


def _known_delivery(channel: str, provider_message_id: str) -> Lead | None:
    if not provider_message_id:
        return None
    inbound = (
        InboundMessage.objects.select_related("lead").filter(channel=channel, provider_message_id=provider_message_id)
    ).first()
    if inbound is None:
        return None
    inbound.lead.ingest_outcome = "duplicate"
    return inbound.lead


def integration_ingest(
    *, integration: Integration, fields: dict[str, str], raw_payload: dict[str, Any], provider_message_id: str
) -> Lead:
    """A lead (or a known person's new message) from a webhook integration, with the source's own id for dedupe."""
    lead = lead_ingest(
        data=LeadInput(
            **fields, source=integration.source or integration.slug, metadata={"integration": integration.slug}
        ),
        channel=f"{integration.kind}:{integration.slug}",
        actor=f"integration:{integration.slug}",
        raw_payload=raw_payload,
        provider_message_id=provider_message_id,
    )
    Integration.objects.filter(pk=integration.pk).update(last_received_at=timezone.now())
    return lead


def email_inbound_receive(*, message: Any, esp_name: str) -> Lead | None:
    """An email from anymail's inbound webhook (an AnymailInboundMessage). It joins the thread it answers (its
    In-Reply-To or References, then the per-lead reply address it was sent to: leads.threads), else the sender's
    lead, else the sender becomes a new lead. An auto-reply (leads.autoreply) is kept but is no reply. The
    Message-ID dedupes the ESP's retries."""
    from leads.autoreply import auto_reply_check
    from leads.email_text import new_text
    from leads.threads import thread_lead_id

    sender = message.from_email
    if sender is None or not sender.addr_spec:
        logger.warning("inbound email without a sender address ignored (%s)", esp_name)
        return None
    provider_id = (message.get("Message-ID") or "").strip()
    if not provider_id:
        fingerprint = f"{sender.addr_spec}\n{message.get('Date', '')}\n{message.subject}\n{message.text}"
        provider_id = "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    headers = {k: str(v) for k, v in message.items()}
    raw = {
        "esp": esp_name,
        "from": str(sender),
        "to": [str(a) for a in message.to],
        "cc": [str(a) for a in message.cc],
        "subject": message.subject or "",
        "text": message.text or "",
        "html": message.html or "",
        "headers": headers,
        "spam_score": message.spam_score,
    }
    recipients = [*raw["to"], *raw["cc"], message.get("Delivered-To", ""), message.get("X-Original-To", "")]
    envelope = getattr(message, "envelope_recipient", None)
    if envelope:
        recipients.append(str(envelope))
    text = new_text(text=message.text or "", html_body=message.html or "")
    return lead_ingest(
        data=LeadInput(
            name=sender.display_name or "",
            email=sender.addr_spec,
            subject=message.subject or "",
            message=text,
            source="email",
        ),
        channel=Channel.EMAIL,
        actor=f"email:{esp_name.lower()}",
        raw_payload=raw,
        provider_message_id=provider_id[:255],
        thread_lead_id=thread_lead_id(
            in_reply_to=message.get("In-Reply-To", ""),
            references=message.get("References", ""),
            recipients=recipients,
        ),
        automated=auto_reply_check(headers=headers, subject=message.subject or "", body=message.text or text),
    )


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def idempotency_delivery_id(actor: str, key: str) -> str:
    """An Idempotency-Key as the request's delivery id: scoped to the caller, hashed (fixed length, no raw key)."""
    return "idempotency:" + hashlib.sha256(f"{actor}\n{key}".encode()).hexdigest()


def lead_ingest_idempotent(
    *,
    data: LeadInput,
    channel: str,
    actor: str,
    raw_payload: dict[str, Any],
    idempotency_key: str,
    fingerprint: str,
) -> IdempotentResult:
    """lead_ingest behind an Idempotency-Key: the first response is kept and replayed; another body is a 422.

    The key is the request's delivery id on its inbound message, so a keyed request costs no query more than one
    without: a repeat is caught by the unique index (its transaction rolls back) and answered from the stored
    response. A key older than IDEMPOTENCY_KEY_TTL_HOURS is released here, and all of them daily by
    `purge_expired`."""
    delivery_id = idempotency_delivery_id(actor, idempotency_key)
    for _ in range(2):
        lead = lead_ingest(
            data=data,
            channel=channel,
            actor=actor,
            raw_payload=raw_payload,
            provider_message_id=delivery_id,
            request_fingerprint=fingerprint,
        )
        if lead.ingest_outcome != "duplicate":
            return IdempotentResult(status=202, body=lead_accepted_body(lead), replayed=False)
        existing = InboundMessage.objects.get(channel=channel, provider_message_id=delivery_id)
        if existing.received_at >= idempotency_cutoff():
            return _replay(existing, fingerprint)
        idempotency_keys_expire(pk=existing.pk)  # then the request is taken as new
    raise IdempotencyConflict("This Idempotency-Key is in use by a request still running; retry it.")


def idempotency_cutoff() -> Any:
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def idempotency_keys_expire(*, pk: int | None = None) -> int:
    """Release Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_HOURS (their message stays); how many."""
    rows = InboundMessage.objects.filter(
        provider_message_id__startswith="idempotency:", received_at__lt=idempotency_cutoff()
    )
    if pk is not None:
        rows = rows.filter(pk=pk)
    return rows.update(provider_message_id="", request_fingerprint="", response_body=None)


def _replay(existing: InboundMessage, fingerprint: str) -> IdempotentResult:
    if not hmac.compare_digest(existing.request_fingerprint, fingerprint):
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request body.",
            fields={"Idempotency-Key": ["Already used with a different request body."]},
        )
    body = existing.response_body or accepted_body(existing.lead_id, "received", "new")
    return IdempotentResult(status=202, body=body, replayed=True)


def accepted_body(lead_id: int, state: str, outcome: str) -> dict[str, Any]:
    return {"id": lead_id, "state": state, "outcome": outcome, "url": f"/api/leads/{lead_id}/"}


def lead_accepted_body(lead: Lead) -> dict[str, Any]:
    return accepted_body(lead.pk, lead.state, getattr(lead, "ingest_outcome", "new"))
