"""CSV imports: the admin upload is kept and imported by a job; the command and the job share the streaming reader
(leads/importer.py), which validates every row and hands valid batches to `leads_import_batch`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from bizpilot import jobs
from bizpilot.audit import audit_event, audit_record, audit_record_many
from leads.identity import INGEST_LOCK
from leads.importer import CsvImportError, ImportReport, ImportRow, import_csv
from leads.models import Channel, InboundMessage, Lead, LeadImport
from leads.signals import lead_received


def leads_import_batch(*, rows: list[ImportRow], source: str, actor: str, process: bool) -> tuple[int, int, int]:
    """Write one batch of validated CSV rows (leads.importer.ImportRow) in one transaction: a new person becomes a
    lead, a known one (same email in any case, or same phone) gets the row as a message, and a row imported before
    is skipped. Returns (created, attached, duplicates). New leads are processed only with `process`."""
    with transaction.atomic():
        with connection.cursor() as cursor:  # no single delivery can create the same person meanwhile
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [INGEST_LOCK])
        seen = set(
            InboundMessage.objects.filter(channel="csv", provider_message_id__in=[r.row_id for r in rows]).values_list(
                "provider_message_id", flat=True
            )
        )
        emails = {r.email.upper() for r in rows if r.email}
        phones = {r.phone for r in rows if r.phone}
        by_email: dict[str, Lead] = {}
        by_phone: dict[str, Lead] = {}
        known = (
            Lead.objects.annotate(email_upper=Upper("email"))
            .filter(Q(email_upper__in=emails) | Q(phone__in=phones))
            .order_by("created_at", "id")
        )
        for person in known:  # the most recent lead of each person wins, as in lead_ingest
            if person.email:
                by_email[person.email.upper()] = person
            if person.phone:
                by_phone[person.phone] = person
        new_leads: list[Lead] = []
        pending: list[tuple[ImportRow, Lead, str]] = []
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
                lead = Lead(
                    name=row.name,
                    email=row.email,
                    phone=row.phone,
                    company=row.company,
                    source=source,
                    preferred_channel=Channel.EMAIL if row.email else Channel.SMS,
                    metadata=row.metadata,
                    created_by=actor,
                    auto_process=process,
                )
                new_leads.append(lead)
                if row.email:
                    by_email[row.email.upper()] = lead
                if row.phone:
                    by_phone[row.phone] = lead
            pending.append((row, lead, outcome))
        Lead.objects.bulk_create(new_leads, batch_size=1000)
        inbound = InboundMessage.objects.bulk_create(
            [
                InboundMessage(
                    lead=lead,
                    channel="csv",
                    subject=row.subject,
                    body=row.message,
                    raw_payload={"line": row.line, "source": source, **row.metadata},
                    provider_message_id=row.row_id,
                )
                for row, lead, _ in pending
            ],
            batch_size=1000,
        )
        audit_record_many(
            [
                audit_event(
                    actor=actor,
                    action="lead.ingest",
                    obj=lead,
                    after={
                        "source": source,
                        "channel": "csv",
                        "inbound_id": message.pk,
                        "line": row.line,
                        "outcome": outcome,
                    },
                )
                for (row, lead, outcome), message in zip(pending, inbound, strict=True)
            ]
        )
        if process and new_leads:
            first_inbound: dict[int, int] = {}
            for message in inbound:
                first_inbound.setdefault(message.lead_id, message.pk)
            transaction.on_commit(
                lambda: [
                    lead_received.send(sender=Lead, lead_id=lead.pk, inbound_id=first_inbound[lead.pk])
                    for lead in new_leads
                ]
            )
    return len(new_leads), len(pending) - len(new_leads), duplicates


ERROR_REPORT_MAX_CHARS = 2_000_000


def lead_import_create(
    *, upload: Any, source: str, column_map: dict[str, str], process: bool, actor: str
) -> LeadImport:
    """Keep an uploaded CSV and queue the job that imports it (the admin page shows its progress)."""
    with transaction.atomic():
        lead_import = LeadImport(
            original_name=getattr(upload, "name", "leads.csv")[:255],
            source=source or "csv",
            column_map=column_map or {},
            process=process,
            created_by=actor,
            size_bytes=getattr(upload, "size", 0) or 0,
        )
        lead_import.file.save(Path(lead_import.original_name).name, File(upload), save=False)
        lead_import.save()
        audit_record(
            actor=actor,
            action="lead_import.create",
            obj=lead_import,
            after={"file": lead_import.original_name, "process": process},
        )
        _enqueue_import(lead_import.pk)
    return lead_import


def lead_import_run(*, import_id: int) -> LeadImport:
    """Run a queued CSV import (idempotent: a finished import is not run again; rows already imported are skipped
    anyway). Progress and counts are saved after every batch."""
    with transaction.atomic():
        lead_import = LeadImport.objects.select_for_update().get(pk=import_id)
        if lead_import.status == LeadImport.Status.DONE:
            return lead_import
        lead_import.status = LeadImport.Status.RUNNING
        lead_import.save(update_fields=["status"])
    done = {"bytes": 0}

    def count_bytes(n: int) -> None:
        done["bytes"] += n

    def save_progress(report: ImportReport) -> None:
        LeadImport.objects.filter(pk=import_id).update(
            bytes_done=done["bytes"],
            rows=report.rows,
            created=report.created,
            attached=report.attached,
            duplicates=report.duplicates,
            invalid=report.invalid,
            encoding=report.encoding,
            delimiter=report.delimiter,
        )

    actor = f"import:{import_id}"
    try:
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as errors:
            report = import_csv(
                Path(lead_import.file.path),
                write_batch=lambda rows: leads_import_batch(
                    rows=rows, source=lead_import.source, actor=actor, process=lead_import.process
                ),
                column_overrides=lead_import.column_map,
                errors_out=errors,
                on_bytes=count_bytes,
                on_batch=save_progress,
            )
            errors.seek(0)
            error_report = errors.read(ERROR_REPORT_MAX_CHARS) if report.invalid else ""
    except (CsvImportError, UnicodeDecodeError, OSError) as exc:
        LeadImport.objects.filter(pk=import_id).update(
            status=LeadImport.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        return LeadImport.objects.get(pk=import_id)
    save_progress(report)
    finished = {"status": LeadImport.Status.DONE, "finished_at": timezone.now(), "bytes_done": lead_import.size_bytes}
    LeadImport.objects.filter(pk=import_id).update(error_report=error_report, **finished)
    return LeadImport.objects.get(pk=import_id)


def lead_imports_requeue(*, import_ids: Iterable[int], actor: str) -> int:
    """Queue unfinished imports again (rows already imported are skipped when they run). Returns how many."""
    queued = 0
    with transaction.atomic():
        for lead_import in LeadImport.objects.select_for_update().filter(pk__in=list(import_ids)).order_by("pk"):
            if lead_import.status == LeadImport.Status.DONE:
                continue
            before = {"status": lead_import.status}
            lead_import.status = LeadImport.Status.QUEUED
            lead_import.error = ""
            lead_import.save(update_fields=["status", "error"])
            audit_record(
                actor=actor,
                action="lead_import.requeue",
                obj=lead_import,
                before=before,
                after={"status": lead_import.status},
            )
            _enqueue_import(lead_import.pk)
            queued += 1
    return queued


def _enqueue_import(import_id: int) -> None:
    # If the queue is unreachable the upload is still stored; "Queue again" in the admin retries.
    jobs.enqueue_on_commit(
        "leads.tasks.run_lead_import", import_id, task_name=f"lead_import-{import_id}", group="lead_import"
    )
