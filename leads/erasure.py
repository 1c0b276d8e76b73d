"""GDPR: everything held about a person, as JSON (`lead_export`), and erasing them everywhere (`lead_erase`).

A person is the lead asked for and every lead with the same email address or phone number. Erasure keeps each
lead as an anonymous tombstone (its state, intent and milestones, so the analytics' counts survive) and removes
every personal value: names, addresses, numbers, free text, raw payloads, prompts and responses. Leads scrubs its
own tables; every other app scrubs its own through the `lead_erasing` signal, in the same transaction, so a
failure anywhere leaves nothing half-erased. What no app owns (the audit log, the job queue, the admin's history)
is scrubbed here by searching for the person's ids and addresses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone

from bizpilot.access import require_permission
from bizpilot.audit import audit_record, audit_scrub
from bizpilot.errors import NotFound
from bizpilot.models import AuditEvent
from leads.models import InboundMessage, Lead, LeadImport
from leads.signals import lead_erasing, lead_exporting

ERASED = "[erased]"


def person_leads(lead_id: int, *, lock: bool = False) -> list[Lead]:
    """The lead and every other lead of the same person (same email or phone). NotFound when it does not exist or
    was erased already."""
    queryset = Lead.objects.select_for_update() if lock else Lead.objects.all()
    lead = queryset.filter(pk=lead_id, erased_at__isnull=True).first()
    if lead is None:
        raise NotFound(f"Lead {lead_id} does not exist.")
    same = Q(pk=lead.pk)
    if lead.email:
        same |= Q(email__iexact=lead.email)
    if lead.phone:
        same |= Q(phone=lead.phone)
    return list(queryset.filter(same, erased_at__isnull=True).order_by("id"))


def _addresses(leads: list[Lead]) -> list[str]:
    return sorted({value for lead in leads for value in (lead.email.lower(), lead.phone) if value})


def lead_export(*, lead_id: int, user: Any = None) -> dict[str, Any]:
    """Everything held about the person: their leads with every inbound message (raw payload included), and each
    app's own rows (replies, events, classifications, model calls, sequences, suppressions) and the audit trail."""
    require_permission(user, "leads.view_lead", "export a person's data")
    leads = person_leads(lead_id)
    ids = [lead.pk for lead in leads]
    export: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "leads": [_jsonable(model_to_dict(lead)) for lead in leads],
        "inbound_messages": [
            _jsonable(model_to_dict(inbound)) for inbound in InboundMessage.objects.filter(lead_id__in=ids)
        ],
    }
    for _, sections in lead_exporting.send(sender=Lead, lead_ids=ids, addresses=_addresses(leads)):
        if isinstance(sections, dict):
            export.update({key: _jsonable(value) for key, value in sections.items()})
    export["audit_events"] = [
        _jsonable(model_to_dict(event)) for event in _audit_events(ids, _addresses(leads)).order_by("created_at")
    ]
    return export


def lead_erase(*, lead_id: int, actor: str, user: Any = None) -> dict[str, int]:
    """Erase a person everywhere, in one transaction. Returns {model label: rows changed}."""
    require_permission(user, "leads.delete_lead", "erase a person's data")
    with transaction.atomic():
        leads = person_leads(lead_id, lock=True)
        ids = [lead.pk for lead in leads]
        addresses = _addresses(leads)
        changed: dict[str, int] = {}
        for _, by_app in lead_erasing.send(sender=Lead, lead_ids=ids, addresses=addresses):
            if isinstance(by_app, dict):
                changed.update(by_app)
        inbound = InboundMessage.objects.filter(lead_id__in=ids)
        audit_scrub(model=InboundMessage, ids=inbound.values_list("pk", flat=True))
        changed["leads.InboundMessage"] = inbound.update(
            subject="",
            body="",
            raw_payload={},
            provider_message_id="",
            request_fingerprint="",
            response_body=None,
            from_address="",
            automated_reason="",
        )
        changed["leads.LeadImport"] = _scrub_imports(addresses)
        changed["bizpilot.AuditEvent"] = _audit_events(ids, addresses).update(before={}, after={"erased": True})
        for address in addresses:  # what the person did themselves (an SMS STOP) names them as the actor
            AuditEvent.objects.filter(actor__icontains=address).update(actor="person:erased")
        changed["admin.LogEntry"] = _admin_history(ids, addresses).update(object_repr=ERASED, change_message="")
        changed["django_q"] = _job_records(addresses)
        now = timezone.now()
        changed["leads.Lead"] = Lead.objects.filter(pk__in=ids).update(
            name="",
            email="",
            phone="",
            company="",
            metadata={},
            last_error="",
            processing_by="",
            erased_at=now,
            updated_at=now,
        )
        for lead in leads:
            audit_record(actor=actor, action="lead.erased", obj=lead, after={"leads": len(ids)})
    return {label: n for label, n in changed.items() if n}


def inbound_payloads_purge(*, older_than: timedelta) -> int:
    """Retention: the raw payloads (the providers' whole requests) of inbound messages older than this are dropped;
    the message itself (who, when, what they wrote) stays for the conversation."""
    cutoff = timezone.now() - older_than
    return InboundMessage.objects.filter(received_at__lt=cutoff).exclude(raw_payload={}).update(raw_payload={})


def _audit_events(lead_ids: list[int], addresses: list[str]) -> Any:
    """The audit events about the person: on their leads, and any whose values name one of their addresses."""
    about = Q(object_type=Lead._meta.label, object_id__in=[str(i) for i in lead_ids])
    for address in addresses:
        about |= Q(before__icontains=address) | Q(after__icontains=address)
    return AuditEvent.objects.filter(about)


def _admin_history(lead_ids: list[int], addresses: list[str]) -> Any:
    lead_type = ContentType.objects.get_for_model(Lead)
    about = Q(content_type=lead_type, object_id__in=[str(i) for i in lead_ids])
    for address in addresses:
        about |= Q(object_repr__icontains=address) | Q(change_message__icontains=address)
    return LogEntry.objects.filter(about)


def _job_records(addresses: list[str]) -> int:
    """Finished and failed jobs whose stored arguments or results name the person (django-q2 keeps them pickled
    and base64-encoded, so they are read, not searched in SQL): deleted. Our jobs take ids, so this is rare."""
    from django_q.models import OrmQ, Task

    if not addresses:
        return 0
    found = [
        task.pk
        for task in Task.objects.only("id", "args", "kwargs", "result").iterator()
        if any(address in f"{task.args!r} {task.kwargs!r} {task.result!r}".lower() for address in addresses)
    ]
    queued = [job.pk for job in OrmQ.objects.all() if any(address in repr(job.task).lower() for address in addresses)]
    return Task.objects.filter(pk__in=found).delete()[0] + OrmQ.objects.filter(pk__in=queued).delete()[0]


def _scrub_imports(addresses: list[str]) -> int:
    """Remove the person's rows from the stored CSV files and their lines from the error reports."""
    if not addresses:
        return 0
    changed = 0
    for lead_import in LeadImport.objects.select_for_update().all():
        keep_line = lambda line: not any(a in line.lower() for a in addresses)  # noqa: E731
        report = "\n".join(line for line in lead_import.error_report.splitlines() if keep_line(line))
        rewritten = _without_rows(lead_import, addresses)
        if rewritten is None and report == lead_import.error_report:
            continue
        if rewritten is not None:
            name = lead_import.file.name or "import.csv"
            lead_import.file.delete(save=False)
            lead_import.file.save(name.rsplit("/", 1)[-1], ContentFile(rewritten), save=False)
        lead_import.error_report = report
        lead_import.save(update_fields=["file", "error_report"])
        changed += 1
    return changed


def _without_rows(lead_import: LeadImport, addresses: list[str]) -> bytes | None:
    """The import's file without the lines that name the person (None when it has none, or no file)."""
    if not lead_import.file:
        return None
    try:
        with lead_import.file.open("rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    encoding = lead_import.encoding or "utf-8"
    try:
        text = raw.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        text = raw.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not any(address in line.lower() for address in addresses)]
    if len(kept) == len(lines):
        return None
    return "".join(kept).encode(encoding if encoding.lower() not in ("utf-16", "utf-16le") else "utf-16")


def _jsonable(value: Any) -> Any:
    """Dates as ISO text, files as their names, everything else as JSON has it."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "url"):
        return value.name
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
