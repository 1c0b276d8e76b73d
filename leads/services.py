"""Lead use cases: the only code that writes leads, inbound messages, API keys and idempotency records."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bizpilot.audit import audit_record
from bizpilot.errors import IdempotencyConflict, InvalidTransition, NotFound, ValidationFailed
from leads.contacts import InvalidPhone, normalize_email, normalize_phone
from leads.models import ApiKey, Channel, IdempotencyKey, InboundMessage, Integration, Lead, LeadImport
from leads.signals import lead_received, lead_wrote_again

logger = logging.getLogger(__name__)

# A lead whose processing started longer ago than this is assumed abandoned (a worker died) and may be re-claimed.
PROCESSING_LEASE = timedelta(minutes=10)


# --- API keys ---


def api_key_create(*, name: str) -> tuple[ApiKey, str]:
    """Create a key; return the row and the full key, which is never stored and cannot be shown again."""
    name = name.strip()
    if not name:
        raise ValidationFailed("An API key needs a name.", fields={"name": ["This field may not be blank."]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=ApiKey.hash_secret(secret))
        audit_record(actor="system:cli", action="api_key.create", obj=api_key, after={"name": name})
    return api_key, f"bp_{prefix}_{secret}"


def api_key_verify(*, key: str) -> ApiKey | None:
    """The active ApiKey for a presented key, or None. Constant-time comparison of the secret's hash."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "bp":
        return None
    _, prefix, secret = parts
    api_key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, ApiKey.hash_secret(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key


def api_key_revoke(*, api_key_id: int, actor: str) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_key.revoke", obj=api_key)
    return api_key


# --- Ingestion ---


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


def lead_ingest(
    *, data: LeadInput, channel: str, actor: str, raw_payload: dict[str, Any], provider_message_id: str = ""
) -> Lead:
    """Store an inbound message, durably, from any source.

    A new person becomes a new lead, processed once the transaction commits. A known person (the same email,
    compared case-insensitively, or the same phone number in E.164) gets the message attached to their lead and
    `lead_wrote_again` is sent; if we had already contacted them it is a reply and the lead becomes `replied`. A
    provider's retry with an id already stored creates nothing. The returned lead carries `ingest_outcome`: new,
    attached, reply or duplicate.
    """
    email = normalize_email(data.email)
    try:
        phone = normalize_phone(data.phone)
    except InvalidPhone as exc:
        raise ValidationFailed("Invalid phone number.", fields={"phone": [str(exc)]}) from exc
    if not email and not phone:
        msg = "Provide an email address or a phone number."
        raise ValidationFailed(msg, fields={"email": [msg], "phone": [msg]})
    duplicate = _known_delivery(channel, provider_message_id)
    if duplicate is not None:
        return duplicate
    try:
        with transaction.atomic():
            _lock_identities(email, phone)  # two deliveries from one new person cannot both create a lead
            lead = _known_lead(email, phone)
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
                    metadata=data.metadata or {},
                    created_by=actor,
                )
                outcome = "new"
            else:
                _fill_blanks(lead, name=data.name.strip(), email=email, phone=phone, company=data.company.strip())
                outcome = "reply" if lead.state in {Lead.State.CONTACTED, Lead.State.REPLIED} else "attached"
            inbound = InboundMessage.objects.create(
                lead=lead,
                channel=channel,
                subject=data.subject.strip(),
                body=data.message,
                raw_payload=raw_payload,
                provider_message_id=provider_message_id,
            )
            after = {"source": data.source or "api", "channel": channel, "inbound_id": inbound.pk, "outcome": outcome}
            audit_record(actor=actor, action="lead.ingest", obj=lead, after=after)
            if outcome == "new":
                transaction.on_commit(
                    lambda: lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk), robust=True
                )
            else:
                if outcome == "reply" and lead.state == Lead.State.CONTACTED:
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


# Single deliveries share this lock (they only exclude each other per identity); a CSV batch takes it alone.
INGEST_LOCK = "leads:ingest"


def _lock_identities(email: str, phone: str) -> None:
    keys = sorted(k for k in (f"email:{email.lower()}" if email else "", f"phone:{phone}" if phone else "") if k)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))", [INGEST_LOCK])
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _known_lead(email: str, phone: str) -> Lead | None:
    """The person's most recent lead: by email first, then by phone."""
    for lookup in ({"email__iexact": email} if email else None, {"phone": phone} if phone else None):
        if lookup:
            lead = Lead.objects.select_for_update().filter(**lookup).order_by("-created_at", "-id").first()
            if lead is not None:
                return lead
    return None


def _fill_blanks(lead: Lead, **values: str) -> None:
    """What a known person tells us now fills what we did not know; it never overwrites what we had."""
    changed = [field for field, value in values.items() if value and not getattr(lead, field)]
    for field in changed:
        setattr(lead, field, values[field])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


def integration_ingest(
    *, integration: Integration, fields: dict[str, str], raw_payload: dict[str, Any], provider_message_id: str
) -> Lead:
    """A lead (or a known person's new message) from a webhook integration, with the source's own id for dedupe."""
    lead = lead_ingest(
        data=LeadInput(**fields, source=integration.source or integration.slug,
                       metadata={"integration": integration.slug}),
        channel=f"{integration.kind}:{integration.slug}",
        actor=f"integration:{integration.slug}",
        raw_payload=raw_payload,
        provider_message_id=provider_message_id,
    )  # fmt: skip
    Integration.objects.filter(pk=integration.pk).update(last_received_at=timezone.now())
    return lead


def email_inbound_receive(*, message: Any, esp_name: str) -> Lead | None:
    """An email from anymail's inbound webhook (an AnymailInboundMessage): the sender becomes a lead, or the message
    joins their lead (a reply when we had written to them). The Message-ID dedupes the ESP's retries."""
    from leads.email_text import new_text

    sender = message.from_email
    if sender is None or not sender.addr_spec:
        logger.warning("inbound email without a sender address ignored (%s)", esp_name)
        return None
    provider_id = (message.get("Message-ID") or "").strip()
    if not provider_id:
        fingerprint = f"{sender.addr_spec}\n{message.get('Date', '')}\n{message.subject}\n{message.text}"
        provider_id = "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    raw = {
        "esp": esp_name,
        "from": str(sender),
        "to": [str(a) for a in message.to],
        "subject": message.subject or "",
        "text": message.text or "",
        "html": message.html or "",
        "headers": {k: str(v) for k, v in message.items()},
        "spam_score": message.spam_score,
    }
    return lead_ingest(
        data=LeadInput(
            name=sender.display_name or "",
            email=sender.addr_spec,
            subject=message.subject or "",
            message=new_text(text=message.text or "", html_body=message.html or ""),
            source="email",
        ),
        channel=Channel.EMAIL,
        actor=f"email:{esp_name.lower()}",
        raw_payload=raw,
        provider_message_id=provider_id[:255],
    )


def leads_import_batch(*, rows: list, source: str, actor: str, process: bool) -> tuple[int, int, int]:
    """Write one batch of validated CSV rows (leads.importer.ImportRow) in one transaction: a new person becomes a
    lead, a known one (same email in any case, or same phone) gets the row as a message, and a row imported before
    is skipped. Returns (created, attached, duplicates). New leads are processed only with `process`."""
    from django.db.models.functions import Upper

    from bizpilot.models import AuditEvent

    with transaction.atomic():
        with connection.cursor() as cursor:  # no single delivery can create the same person meanwhile
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [INGEST_LOCK])
        seen = set(
            InboundMessage.objects.filter(channel="csv", provider_message_id__in=[r.row_id for r in rows])
            .values_list("provider_message_id", flat=True)
        )  # fmt: skip
        emails = {r.email.upper() for r in rows if r.email}
        phones = {r.phone for r in rows if r.phone}
        by_email: dict[str, Lead] = {}
        by_phone: dict[str, Lead] = {}
        known = (
            Lead.objects.annotate(email_upper=Upper("email"))
            .filter(Q(email_upper__in=emails) | Q(phone__in=phones))
            .order_by("created_at", "id")
        )
        for lead in known:  # the most recent lead of each person wins, as in lead_ingest
            if lead.email:
                by_email[lead.email.upper()] = lead
            if lead.phone:
                by_phone[lead.phone] = lead
        new_leads: list[Lead] = []
        pending: list[tuple[object, Lead, str]] = []
        duplicates = 0
        for row in rows:
            if row.row_id in seen:
                duplicates += 1
                continue
            seen.add(row.row_id)
            lead = (by_email.get(row.email.upper()) if row.email else None) or by_phone.get(row.phone)
            outcome = "attached"
            if lead is None:
                outcome = "new"
                lead = Lead(name=row.name, email=row.email, phone=row.phone, company=row.company, source=source,
                            preferred_channel=Channel.EMAIL if row.email else Channel.SMS, metadata=row.metadata,
                            created_by=actor, auto_process=process)  # fmt: skip
                new_leads.append(lead)
                if row.email:
                    by_email[row.email.upper()] = lead
                if row.phone:
                    by_phone[row.phone] = lead
            pending.append((row, lead, outcome))
        Lead.objects.bulk_create(new_leads, batch_size=1000)
        inbound = InboundMessage.objects.bulk_create(
            [InboundMessage(lead=lead, channel="csv", subject=row.subject, body=row.message,
                            raw_payload={"line": row.line, "source": source, **row.metadata},
                            provider_message_id=row.row_id) for row, lead, _ in pending],
            batch_size=1000,
        )  # fmt: skip
        AuditEvent.objects.bulk_create(
            [AuditEvent(actor=actor, action="lead.ingest", object_type=Lead._meta.label, object_id=str(lead.pk),
                        after={"source": source, "channel": "csv", "inbound_id": message.pk, "line": row.line,
                               "outcome": outcome})
             for (row, lead, outcome), message in zip(pending, inbound, strict=True)],
            batch_size=1000,
        )  # fmt: skip
        if process and new_leads:
            first_inbound = {}
            for message in inbound:
                first_inbound.setdefault(message.lead_id, message.pk)
            transaction.on_commit(
                lambda: [lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=first_inbound[lead.pk])
                         for lead in new_leads]
            )  # fmt: skip
    return len(new_leads), len(pending) - len(new_leads), duplicates


def leads_merge(*, keep_id: int, merge_id: int, actor: str) -> Lead:
    """Merge a duplicate lead into another: every row pointing at it (inbound messages, replies and their events,
    classifications, model calls, ...) moves to the kept lead, blank contact details are filled from it, and it is
    deleted. The audit log keeps a copy of the merged lead."""
    from django.forms.models import model_to_dict

    if keep_id == merge_id:
        raise ValidationFailed("Choose two different leads to merge.", fields={"merge_id": ["Same lead as keep_id."]})
    with transaction.atomic():
        leads = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[keep_id, merge_id])}
        if len(leads) != 2:
            raise NotFound("One of the leads to merge does not exist.")
        keep, merged = leads[keep_id], leads[merge_id]
        snapshot = model_to_dict(merged)
        moved: dict[str, int] = {}
        for relation in Lead._meta.related_objects:  # every app's foreign keys to Lead, without importing them
            if relation.one_to_many or relation.one_to_one:
                count = relation.related_model._base_manager.filter(**{relation.field.name: merged}).update(
                    **{relation.field.name: keep}
                )
                if count:
                    moved[relation.related_model._meta.label] = count
        _fill_blanks(keep, name=merged.name, email=merged.email, phone=merged.phone, company=merged.company)
        if merged.metadata:
            keep.metadata = {**merged.metadata, **keep.metadata}
            keep.save(update_fields=["metadata", "updated_at"])
        merged.delete()
        audit_record(actor=actor, action="lead.merge", obj=keep,
                     before={"merged_lead": {k: str(v) for k, v in snapshot.items()}},
                     after={"moved": moved, "merged_id": merge_id})  # fmt: skip
    return keep


ERROR_REPORT_MAX_CHARS = 2_000_000


def lead_import_create(*, upload, source: str, column_map: dict[str, str], process: bool, actor: str) -> LeadImport:
    """Keep an uploaded CSV and queue the job that imports it (the admin page shows its progress)."""
    from django.core.files.base import File

    with transaction.atomic():
        lead_import = LeadImport(original_name=getattr(upload, "name", "leads.csv")[:255], source=source or "csv",
                                 column_map=column_map or {}, process=process, created_by=actor,
                                 size_bytes=getattr(upload, "size", 0) or 0)  # fmt: skip
        lead_import.file.save(Path(lead_import.original_name).name, File(upload), save=False)
        lead_import.save()
        audit_record(actor=actor, action="lead_import.create", obj=lead_import,
                     after={"file": lead_import.original_name, "process": process})  # fmt: skip
        from leads.tasks import enqueue_lead_import

        transaction.on_commit(lambda: enqueue_lead_import(lead_import.pk))
    return lead_import


def lead_import_run(*, import_id: int) -> LeadImport:
    """Run a queued CSV import (idempotent: a finished import is not run again; rows already imported are skipped
    anyway). Progress and counts are saved after every batch."""
    import tempfile

    from leads.importer import CsvImportError, import_csv

    with transaction.atomic():
        lead_import = LeadImport.objects.select_for_update().get(pk=import_id)
        if lead_import.status == LeadImport.Status.DONE:
            return lead_import
        lead_import.status = LeadImport.Status.RUNNING
        lead_import.save(update_fields=["status"])
    done = {"bytes": 0}

    def count_bytes(n: int) -> None:
        done["bytes"] += n

    def save_progress(report) -> None:
        LeadImport.objects.filter(pk=import_id).update(
            bytes_done=done["bytes"], rows=report.rows, created=report.created, attached=report.attached,
            duplicates=report.duplicates, invalid=report.invalid, encoding=report.encoding,
            delimiter=report.delimiter,
        )  # fmt: skip

    actor = f"import:{import_id}"
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as errors:
            report = import_csv(
                Path(lead_import.file.path),
                write_batch=lambda rows: leads_import_batch(rows=rows, source=lead_import.source, actor=actor,
                                                            process=lead_import.process),
                column_overrides=lead_import.column_map, errors_out=errors, on_bytes=count_bytes,
                on_batch=save_progress,
            )  # fmt: skip
            errors.seek(0)
            error_report = errors.read(ERROR_REPORT_MAX_CHARS) if report.invalid else ""
    except (CsvImportError, UnicodeDecodeError, OSError) as exc:
        LeadImport.objects.filter(pk=import_id).update(status=LeadImport.Status.FAILED, error=str(exc),
                                                       finished_at=timezone.now())  # fmt: skip
        return LeadImport.objects.get(pk=import_id)
    save_progress(report)
    finished = {"status": LeadImport.Status.DONE, "finished_at": timezone.now(), "bytes_done": lead_import.size_bytes}
    LeadImport.objects.filter(pk=import_id).update(error_report=error_report, **finished)
    return LeadImport.objects.get(pk=import_id)


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def lead_ingest_idempotent(
    *,
    data: LeadInput,
    channel: str,
    actor: str,
    raw_payload: dict[str, Any],
    idempotency_key: str,
    fingerprint: str,
) -> IdempotentResult:
    """lead_ingest behind an Idempotency-Key: the first response is kept and replayed; another body is a 422."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()

    existing = IdempotencyKey.objects.filter(owner=actor, key=idempotency_key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            lead = lead_ingest(data=data, channel=channel, actor=actor, raw_payload=raw_payload)
            body = lead_accepted_body(lead)
            IdempotencyKey.objects.create(
                owner=actor,
                key=idempotency_key,
                request_fingerprint=fingerprint,
                response_status=202,
                response_body=body,
                lead=lead,
            )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        existing = IdempotencyKey.objects.filter(owner=actor, key=idempotency_key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return IdempotentResult(status=202, body=body, replayed=False)


def _replay(existing: IdempotencyKey, fingerprint: str) -> IdempotentResult:
    if not hmac.compare_digest(existing.request_fingerprint, fingerprint):
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request body.",
            fields={"Idempotency-Key": ["Already used with a different request body."]},
        )
    return IdempotentResult(status=existing.response_status, body=existing.response_body, replayed=True)


def lead_accepted_body(lead: Lead) -> dict[str, Any]:
    outcome = getattr(lead, "ingest_outcome", "new")
    return {"id": lead.pk, "state": lead.state, "outcome": outcome, "url": f"/api/leads/{lead.pk}/"}


# --- Processing state (called by the pipeline in messaging) ---


def lead_claim_for_processing(*, lead_id: int) -> Lead | None:
    """Move a lead that still needs work to `processing`; None when there is nothing to do or another run holds it.

    A lead may be claimed in `received` (not classified yet), in `classified` (classified but not drafted, e.g. the
    draft step failed) or in `processing` when the previous claim's lease ran out.
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        now = timezone.now()
        if lead.state == Lead.State.PROCESSING:
            if lead.processing_started_at and now - lead.processing_started_at < PROCESSING_LEASE:
                return None
        elif lead.state not in {Lead.State.RECEIVED, Lead.State.CLASSIFIED}:
            return None
        before = {"state": lead.state}
        lead.resume_state = lead.state  # not stored: tells the pipeline where to continue
        lead.state = Lead.State.PROCESSING
        lead.processing_started_at = now
        lead.processing_attempts += 1
        lead.save(update_fields=["state", "processing_started_at", "processing_attempts", "updated_at"])
        audit_record(
            actor="system:pipeline",
            action="lead.processing",
            obj=lead,
            before=before,
            after={"state": lead.state},
        )
    return lead


def lead_record_classification(*, lead_id: int, intent: str, confidence: float, actor: str = "system:pipeline") -> Lead:
    """The lead holds the intent in effect; the Classification rows (intelligence) keep the history."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        before = {"intent": lead.intent, "intent_confidence": lead.intent_confidence, "state": lead.state}
        lead.intent = intent
        lead.intent_confidence = confidence
        lead.last_error = ""
        fields = ["intent", "intent_confidence", "last_error", "updated_at"]
        if lead.state == Lead.State.PROCESSING:
            lead.state = Lead.State.CLASSIFIED
            fields.append("state")
        lead.save(update_fields=fields)
        audit_record(
            actor=actor,
            action="lead.classify" if actor == "system:pipeline" else "lead.intent_corrected",
            obj=lead,
            before=before,
            after={"intent": intent, "intent_confidence": confidence, "state": lead.state},
        )
    return lead


def lead_transition(*, lead: Lead, to_state: str, actor: str) -> Lead:
    """Move a lead (already locked by the caller's transaction) to another state, or raise InvalidTransition."""
    if lead.state == to_state:
        return lead
    if not lead.can_move_to(to_state):
        raise InvalidTransition(f"A lead cannot go from {lead.state} to {to_state}.")
    before = {"state": lead.state}
    lead.state = to_state
    lead.save(update_fields=["state", "updated_at"])
    audit_record(actor=actor, action=f"lead.{to_state}", obj=lead, before=before, after={"state": to_state})
    return lead


def lead_mark_outcome(*, lead_id: int, outcome: str, actor: str, user=None) -> Lead:
    """An operator records how a lead ended: `converted` (a customer) or `lost`."""
    from bizpilot.access import REVIEW, require_permission

    require_permission(user, REVIEW, "mark leads converted or lost")
    if outcome not in (Lead.State.CONVERTED, Lead.State.LOST):
        raise ValidationFailed("Unknown outcome.", fields={"outcome": ["Must be converted or lost."]})
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        return lead_transition(lead=lead, to_state=outcome, actor=actor)


def lead_retry(*, lead_id: int, actor: str) -> Lead:
    """Run the pipeline again for a lead that has not been drafted (its last attempt failed or never ran)."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None:
            raise NotFound(f"Lead {lead_id} does not exist.")
        if lead.state not in {Lead.State.RECEIVED, Lead.State.CLASSIFIED, Lead.State.PROCESSING}:
            raise InvalidTransition(f"Lead {lead_id} is {lead.state}; only leads not yet drafted can be retried.")
        if not lead.auto_process:  # an imported lead an operator chose to process
            lead.auto_process = True
            lead.save(update_fields=["auto_process", "updated_at"])
        audit_record(actor=actor, action="lead.retry", obj=lead, after={"state": lead.state})
        inbound = lead.inbound_messages.order_by("-received_at", "-id").first()
        transaction.on_commit(
            lambda: lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=inbound.pk if inbound else None)
        )
    return lead


def lead_record_failure(*, lead_id: int, error: str) -> Lead:
    """A pipeline step failed: keep the error and put the lead back where a retry picks it up."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead_id)
        before = {"state": lead.state}
        lead.last_error = error[:5000]
        lead.last_error_at = timezone.now()
        if lead.state == Lead.State.PROCESSING:
            lead.state = Lead.State.CLASSIFIED if lead.intent else Lead.State.RECEIVED
        lead.processing_started_at = None
        lead.save(update_fields=["last_error", "last_error_at", "state", "processing_started_at", "updated_at"])
        audit_record(
            actor="system:pipeline",
            action="lead.processing_failed",
            obj=lead,
            before=before,
            after={"state": lead.state, "error": lead.last_error[:500]},
        )
    return lead
