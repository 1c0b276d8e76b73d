"""django-q2 jobs of the intelligence app: thin, idempotent, take ids."""

from __future__ import annotations

from intelligence.knowledge import knowledge_document_embed


def embed_document(document_id: int) -> str:
    return knowledge_document_embed(document_id=document_id)
