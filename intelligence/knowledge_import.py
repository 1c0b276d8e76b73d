"""Importing what a business already has into its knowledge base: an uploaded file or its website (read by
intelligence.knowledge_readers), page by page, with progress, resumable.

- **Page by page.** The pages are listed first (a PDF's pages, an FAQ's questions, the sitemap's addresses), then
  each is read, chunked, embedded and stored in a transaction of its own; `done` counts them. A worker killed
  halfway leaves what it stored; the import resumes at the first page not stored (the minutely sweep, or the next
  run). One PostgreSQL advisory lock per import keeps two workers from running the same import; a killed worker's
  lock goes with its connection.
- **A re-import replaces what changed and keeps the rest.** Every import of the same file name or website stores its
  pages under the same names: a page that reads the same keeps its vectors (nothing is embedded again), a changed
  page is stored anew, and a page that is gone is removed from the knowledge base when the import finishes.
- **A person removes what is wrong**: a removed page leaves the knowledge base, and later imports leave it out while
  it reads the same.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from intelligence.knowledge import knowledge_document_store
from intelligence.knowledge_readers import READABLE, Unreadable, site_page, site_page_urls, upload_pages
from intelligence.models import KnowledgeDocument, KnowledgeImport, KnowledgeImportPage, text_hash

log = structlog.get_logger(__name__)
IMPORT_LOCK = 0x6B6E6F77  # "know": with the import's id, one runner per import
STALLED_AFTER = timedelta(minutes=2)
Page = KnowledgeImportPage


def upload_problem(name: str, size: int) -> str:
    """Why a file cannot be imported ("" when it can): its type, or its size."""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if suffix not in READABLE:
        return f"{name}: use PDF, Word (.docx), HTML, Markdown, text or an FAQ CSV (question,answer)."
    if size > settings.KNOWLEDGE_UPLOAD_MAX_BYTES:
        return f"{name}: at most {settings.KNOWLEDGE_UPLOAD_MAX_BYTES // 1_000_000} MB."
    return ""


def knowledge_import_upload(*, name: str, data: bytes, actor: str) -> KnowledgeImport:
    """Queue the import of an uploaded file."""
    name = name.strip().replace("/", "_")[:300]
    problem = upload_problem(name, len(data))
    if problem:
        raise ValidationFailed("BizPilot cannot import this file.", fields={"file": [problem]})
    kind = "faq" if name.lower().endswith(".csv") else "doc"
    return _queue(source=KnowledgeImport.Source.UPLOAD, name=name, kind=kind, upload=data, actor=actor)


def knowledge_import_site(*, address: str, actor: str) -> KnowledgeImport:
    """Queue the import of a website, read from its sitemap."""
    address = address.strip()
    if not address or " " in address or "." not in address:
        raise ValidationFailed("That is not a web address.", fields={"website": ["For example https://example.com"]})
    if not address.startswith(("http://", "https://")):
        address = "https://" + address
    return _queue(source=KnowledgeImport.Source.SITE, name=address[:500], kind="web", upload=None, actor=actor)


def _queue(*, source: str, name: str, kind: str, upload: bytes | None, actor: str) -> KnowledgeImport:
    with transaction.atomic():
        knowledge_import = KnowledgeImport.objects.create(
            source=source, name=name, kind=kind, upload=upload, created_by=actor
        )
        audit_record(actor=actor, action="knowledge.import", obj=knowledge_import, after={"name": name})
        _enqueue(knowledge_import.pk)
    return knowledge_import


def _enqueue(import_id: int) -> None:
    jobs.enqueue_on_commit("intelligence.tasks.import_knowledge", import_id, task_name=f"import_knowledge-{import_id}")


def knowledge_import_run(*, import_id: int) -> KnowledgeImport | None:
    """Run (or resume) an import to its end. None when another worker is running it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK, import_id])
        if not cursor.fetchone()[0]:
            return None
    try:
        return _run(import_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [IMPORT_LOCK, import_id])


def _run(import_id: int) -> KnowledgeImport | None:
    knowledge_import = KnowledgeImport.objects.filter(pk=import_id).first()
    if knowledge_import is None or knowledge_import.status in (KnowledgeImport.Status.DONE,):
        return knowledge_import
    _beat(knowledge_import, status=KnowledgeImport.Status.RUNNING)
    if not knowledge_import.pages.exists():
        try:
            _list_pages(knowledge_import)
        except Unreadable as exc:
            return _end(knowledge_import, error=str(exc))
    removed_before = _removed_before(knowledge_import)
    started = time.monotonic()
    for page in knowledge_import.pages.filter(status=Page.Status.PENDING).order_by("ordinal"):
        if time.monotonic() - started > settings.KNOWLEDGE_IMPORT_RUN_SECONDS:
            _enqueue(knowledge_import.pk)  # the rest in a job of its own, well inside the job timeout
            return knowledge_import
        _store(knowledge_import, page, removed_before)
        _beat(knowledge_import)
    _replace_what_is_gone(knowledge_import)
    return _end(knowledge_import, error="")


def _list_pages(knowledge_import: KnowledgeImport) -> None:
    if knowledge_import.source == KnowledgeImport.Source.UPLOAD:
        pages = [
            Page(ref=p.ref, title=p.title, content=p.content)
            for p in upload_pages(knowledge_import.name, bytes(knowledge_import.upload or b""))
        ]
    else:
        urls = site_page_urls(knowledge_import.name, limit=settings.KNOWLEDGE_SITE_MAX_PAGES)
        pages = [Page(ref=url, title=url) for url in urls]
    with transaction.atomic():
        for ordinal, page in enumerate(pages):
            page.knowledge_import, page.ordinal = knowledge_import, ordinal
        Page.objects.bulk_create(pages)
        KnowledgeImport.objects.filter(pk=knowledge_import.pk).update(total=len(pages))
    knowledge_import.total = len(pages)
    log.info("knowledge.import.listed", import_id=knowledge_import.pk, pages=len(pages))


def _removed_before(knowledge_import: KnowledgeImport) -> dict[str, str]:
    """ref → content hash of the pages a person removed from earlier imports of the same file or site."""
    return dict(
        Page.objects.filter(
            knowledge_import__source=knowledge_import.source,
            knowledge_import__name=knowledge_import.name,
            status=Page.Status.REMOVED,
        )
        .exclude(knowledge_import=knowledge_import)
        .values_list("ref", "content_hash")
    )


def source_path(knowledge_import: KnowledgeImport, ref: str) -> str:
    path = knowledge_import.source_prefix + ref
    return path if len(path) <= 500 else knowledge_import.source_prefix + hashlib.sha256(ref.encode()).hexdigest()


def _store(knowledge_import: KnowledgeImport, page: KnowledgeImportPage, removed_before: dict[str, str]) -> None:
    if knowledge_import.source == KnowledgeImport.Source.SITE:
        try:
            read = site_page(page.ref)
            page.title, page.content = read.title[:300], read.content
        except Unreadable as exc:
            page.status, page.error = Page.Status.FAILED, str(exc)[:1000]
            page.save(update_fields=["status", "error", "title", "content"])
            return
    page.content_hash = text_hash(page.content)
    if not page.content.strip():
        page.status = Page.Status.EMPTY
    elif removed_before.get(page.ref) == page.content_hash:
        page.status, page.error = Page.Status.REMOVED, "Removed from an earlier import, and it still reads the same."
    else:
        document, stored = knowledge_document_store(
            source_path=source_path(knowledge_import, page.ref),
            title=page.title or page.ref,
            kind=knowledge_import.kind,
            content=page.content,
        )
        page.document = document
        page.status = Page.Status.STORED if stored == "loaded" else Page.Status.UNCHANGED
    page.save(update_fields=["title", "content", "content_hash", "status", "error", "document"])


def _replace_what_is_gone(knowledge_import: KnowledgeImport) -> None:
    """Documents an earlier import of the same file or site made that this one did not find (or that a person
    removed): out of the knowledge base."""
    kept = {
        source_path(knowledge_import, ref)
        for ref in knowledge_import.pages.filter(status__in=[Page.Status.STORED, Page.Status.UNCHANGED]).values_list(
            "ref", flat=True
        )
    }
    gone = KnowledgeDocument.objects.filter(source_path__startswith=knowledge_import.source_prefix).exclude(
        source_path__in=kept
    )
    count = gone.count()
    gone.delete()
    if count:
        log.info("knowledge.import.replaced", import_id=knowledge_import.pk, removed=count)


def _beat(knowledge_import: KnowledgeImport, *, status: str | None = None) -> None:
    done = knowledge_import.pages.exclude(status=Page.Status.PENDING).count()
    values = {"heartbeat_at": timezone.now(), "done": done, **({"status": status} if status else {})}
    KnowledgeImport.objects.filter(pk=knowledge_import.pk).update(**values)
    knowledge_import.done = done


def _end(knowledge_import: KnowledgeImport, *, error: str) -> KnowledgeImport:
    status = KnowledgeImport.Status.FAILED if error else KnowledgeImport.Status.DONE
    KnowledgeImport.objects.filter(pk=knowledge_import.pk).update(
        status=status, error=error, finished_at=timezone.now(), upload=None, heartbeat_at=timezone.now()
    )
    knowledge_import.refresh_from_db()
    log.info("knowledge.import.ended", import_id=knowledge_import.pk, status=status, pages=knowledge_import.total)
    return knowledge_import


def knowledge_imports_resume(*, now: datetime | None = None) -> int:
    """The minutely sweep: queue again every import whose worker stopped (no sign of life for 2 minutes)."""
    now = now or timezone.now()
    stalled = (
        KnowledgeImport.objects.filter(status__in=[KnowledgeImport.Status.PENDING, KnowledgeImport.Status.RUNNING])
        .exclude(heartbeat_at__gt=now - STALLED_AFTER)
        .exclude(heartbeat_at__isnull=True, created_at__gt=now - STALLED_AFTER)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for import_id in ids:
        _enqueue(import_id)
    return len(ids)


def knowledge_import_resume(*, import_id: int, actor: str) -> KnowledgeImport:
    """A person asks for an import that stopped to go on (the sweep does it after 2 minutes anyway)."""
    knowledge_import = KnowledgeImport.objects.filter(pk=import_id).first()
    if knowledge_import is None:
        raise NotFound(f"Import {import_id} does not exist.")
    if knowledge_import.status in (KnowledgeImport.Status.DONE, KnowledgeImport.Status.FAILED):
        raise InvalidTransition(f"{knowledge_import.name} is {knowledge_import.status}: import the file again instead.")
    with transaction.atomic():
        audit_record(actor=actor, action="knowledge.import_resumed", obj=knowledge_import)
        _enqueue(knowledge_import.pk)
    return knowledge_import


def knowledge_import_page_remove(*, page_id: int, actor: str) -> KnowledgeImportPage:
    """A person takes a page out of the knowledge base (it was read wrong, or does not belong)."""
    with transaction.atomic():
        page = Page.objects.select_for_update().filter(pk=page_id).first()
        if page is None:
            raise NotFound(f"Page {page_id} does not exist.")
        if page.document_id:
            KnowledgeDocument.objects.filter(pk=page.document_id).delete()
        page.status, page.document, page.error = Page.Status.REMOVED, None, f"Removed by {actor}"
        page.save(update_fields=["status", "document", "error"])
        audit_record(actor=actor, action="knowledge.page_removed", obj=page, after={"ref": page.ref})
    return page
