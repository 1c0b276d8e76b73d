"""django-q2 jobs of the leads app: thin, idempotent wrappers that take ids and call one service."""

from __future__ import annotations

from leads.imports import lead_import_run


def run_lead_import(import_id: int) -> str:
    return lead_import_run(import_id=import_id).status
