"""django-q2 jobs of the intelligence app: thin, idempotent, take ids."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def embed_document(document_id: int) -> str:
    from intelligence.services import knowledge_document_embed

    return knowledge_document_embed(document_id=document_id)


def enqueue_embed_document(document_id: int) -> None:
    try:
        async_task("intelligence.tasks.embed_document", document_id, task_name=f"embed_document-{document_id}")
    except Exception:
        logger.exception("could not enqueue embed_document for %s", document_id)
