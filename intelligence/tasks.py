"""django-q2 jobs of the intelligence app: thin, idempotent, take ids."""

from __future__ import annotations

from intelligence.knowledge import knowledge_document_embed
from intelligence.knowledge_import import knowledge_import_run, knowledge_imports_resume


def embed_document(document_id: int) -> str:
    return knowledge_document_embed(document_id=document_id)


def import_knowledge(import_id: int) -> str:
    knowledge_import = knowledge_import_run(import_id=import_id)
    return knowledge_import.status if knowledge_import else "running elsewhere"


def resume_knowledge_imports() -> int:
    return knowledge_imports_resume()
