"""The knowledge base: documents (Markdown, text, FAQ CSV) loaded from files or edited in the admin, split into
chunks and embedded locally. Unchanged chunks keep their vectors; search is in intelligence/retrieval.py."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from bizpilot import jobs
from intelligence.chunking import (
    SUPPORTED_SUFFIXES,
    chunk_content,
    chunk_embedding_text,
    chunk_markdown,
    read_document,
)
from intelligence.embedding_state import active_embedding_model
from intelligence.model_calls import embed_logged
from intelligence.models import KnowledgeChunk, KnowledgeDocument, text_hash


@dataclass
class KnowledgeLoadReport:
    loaded: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    errors: list[str] = field(default_factory=list)


def knowledge_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return [path]


def knowledge_load_path(
    *, path: Path, kind: str | None = None, progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None
) -> KnowledgeLoadReport:
    """Load Markdown/text/FAQ-CSV files (a file or a folder) into the knowledge base, idempotently: unchanged
    documents are skipped, unchanged chunks keep their vectors, removed chunks (and, for a folder, documents whose
    file is gone) are deleted. An unreadable file is reported and skipped; the others still load."""
    report = KnowledgeLoadReport()
    files = knowledge_files(path)
    seen: set[str] = set()
    for file in progress(files) if progress else files:
        source = str(file.resolve())
        seen.add(source)
        try:
            title, content, chunks = read_document(file)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            report.errors.append(f"{file}: {reason}")
            continue
        doc_kind = kind or ("faq" if file.suffix.lower() == ".csv" else "doc")
        status, embedded, reused = _knowledge_document_store(
            source_path=source, title=title, kind=doc_kind, content=content, chunks=chunks
        )
        report.loaded += status == "loaded"
        report.unchanged += status == "unchanged"
        report.chunks_embedded += embedded
        report.chunks_reused += reused
    if path.is_dir():
        prefix = str(path.resolve()).rstrip("/") + "/"
        gone = KnowledgeDocument.objects.filter(source_path__startswith=prefix).exclude(source_path__in=seen)
        report.deleted = gone.count()
        gone.delete()
    return report


def knowledge_document_save(*, document_id: int | None, title: str, kind: str, content: str) -> KnowledgeDocument:
    """Create or edit a document by hand (the admin); its chunks are re-embedded by a job once this commits."""
    with transaction.atomic():
        if document_id is None:
            document = KnowledgeDocument.objects.create(
                title=title, kind=kind, content=content, content_hash="", source_path=f"admin:{uuid.uuid4().hex}"
            )
        else:
            document = KnowledgeDocument.objects.select_for_update().get(pk=document_id)
            document.title, document.kind, document.content = title, kind, content
            document.save(update_fields=["title", "kind", "content", "updated_at"])
        jobs.enqueue_on_commit(
            "intelligence.tasks.embed_document", document.pk, task_name=f"embed_document-{document.pk}"
        )
    return document


def knowledge_document_embed(*, document_id: int) -> str:
    """Re-chunk and re-embed a document from its stored content (after an edit in the admin)."""
    document = KnowledgeDocument.objects.filter(pk=document_id).first()
    if document is None:
        return "deleted"
    chunks = chunk_content(document.content, csv_faq=document.source_path.lower().endswith(".csv"))
    status, _, _ = _knowledge_document_store(
        source_path=document.source_path,
        title=document.title,
        kind=document.kind,
        content=document.content,
        chunks=chunks,
        force=document.content_hash == "",
    )
    return status


def knowledge_document_store(*, source_path: str, title: str, kind: str, content: str) -> tuple[KnowledgeDocument, str]:
    """Store one document of Markdown under `source_path` (an import's page): chunked, embedded where its chunks
    are new. Returns the document and "loaded" or "unchanged"."""
    status, _, _ = _knowledge_document_store(
        source_path=source_path, title=title[:300], kind=kind, content=content, chunks=chunk_markdown(content)
    )
    return KnowledgeDocument.objects.get(source_path=source_path), status


def _knowledge_document_store(
    *, source_path: str, title: str, kind: str, content: str, chunks: list, force: bool = False
) -> tuple[str, int, int]:
    """Store a document's chunks, embedding only chunk texts that have no vector from the current model yet."""
    model_name = active_embedding_model()
    digest = text_hash(f"{title}\x00{kind}\x00{content}")
    current = KnowledgeDocument.objects.filter(source_path=source_path).first()
    if (
        not force
        and current is not None
        and current.content_hash == digest
        and current.chunks.exists()
        and not current.chunks.exclude(embedding_model=model_name).exists()
    ):
        return "unchanged", 0, 0
    texts = [chunk_embedding_text(c) for c in chunks]
    known = {}
    if current is not None:
        known = {
            c.text_hash: c.embedding
            for c in current.chunks.filter(embedding_model=model_name, text_hash__in=[text_hash(t) for t in texts])
        }
    missing = [t for t in dict.fromkeys(texts) if text_hash(t) not in known]
    # Embedded before the transaction below opens.
    vectors = dict(zip(missing, embed_logged(missing, operation="embed:knowledge"), strict=True)) if missing else {}
    with transaction.atomic():
        document, _ = KnowledgeDocument.objects.update_or_create(
            source_path=source_path, defaults={"title": title, "kind": kind, "content": content, "content_hash": digest}
        )
        document.chunks.all().delete()
        KnowledgeChunk.objects.bulk_create(
            KnowledgeChunk(
                document=document,
                kind=kind,
                ordinal=n,
                heading=chunk.heading[:300],
                text=chunk.text,
                text_hash=text_hash(embed_text),
                embedding=known.get(text_hash(embed_text), vectors.get(embed_text)),
                embedding_model=model_name,
            )
            for n, (chunk, embed_text) in enumerate(zip(chunks, texts, strict=True))
        )
    return "loaded", len(missing), len(texts) - len(missing)
