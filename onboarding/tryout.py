"""Try it: a lead's message goes through the real pipeline (stored, classified, retrieved, drafted, the send policy
applied) inside a transaction that is then rolled back. The owner sees the intent, the confidence, the facts
retrieved and the draft exactly as a real lead would get them; nothing is kept, queued or sent (every job, alert,
webhook and send is queued on commit, and nothing commits). An LLM, when configured, is really called."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from bizpilot.errors import ValidationFailed
from leads.ingest import LeadInput, lead_ingest
from messaging.pipeline import lead_process
from messaging.selectors import lead_detail

MAX_MESSAGE = 5000


class _RollBack(Exception):
    """Raised to undo everything the try wrote."""


@dataclass
class TryResult:
    intent: str | None = None
    confidence: float | None = None
    decided_by: str | None = None
    language: str | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    snippets: list[dict[str, Any]] = field(default_factory=list)
    draft_subject: str = ""
    draft_body: str = ""
    generated_by: str = ""
    auto_send: str = ""
    error: str = ""


def lead_try(*, message: str, name: str = "", actor: str) -> TryResult:
    """What BizPilot would do with this message from a new lead by email."""
    message = message.strip()
    if not message or len(message) > MAX_MESSAGE:
        problem = "Paste a lead's message." if not message else f"At most {MAX_MESSAGE} characters."
        raise ValidationFailed("Nothing to try.", fields={"message": [problem]})
    result = TryResult()
    try:
        with transaction.atomic():
            lead = lead_ingest(
                data=LeadInput(
                    name=name.strip()[:200],
                    email=f"try-{uuid.uuid4().hex[:12]}@example.invalid",  # never an existing lead's address
                    message=message,
                    source="try-it",
                ),
                channel="api",
                actor=actor,
                raw_payload={},
            )
            try:
                draft = lead_process(lead_id=lead.pk)
            except Exception as exc:
                result.error = f"{type(exc).__name__}: {exc}"
                draft = None
            detail = lead_detail(lead_id=lead.pk)
            result.intent, result.confidence = detail["intent"], detail["confidence"]
            result.decided_by, result.language = detail["decided_by"], detail["language"]
            result.explanation, result.snippets = detail["explanation"] or {}, detail["snippets"] or []
            if draft is not None:
                draft.refresh_from_db()
                result.draft_subject, result.draft_body = draft.subject, draft.body
                result.generated_by = draft.generated_by
                result.auto_send = draft.auto_send_decision or draft.status
            raise _RollBack
    except _RollBack:
        pass
    return result
