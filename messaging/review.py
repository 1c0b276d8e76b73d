"""Review: an operator (or the auto-send policy) approves, edits, regenerates or rejects a draft. An approval binds
to the exact text approved and enqueues the send; a person's approval also teaches the business's voice."""

from __future__ import annotations

import difflib
from typing import Any

from django.db import transaction
from django.utils import timezone

from bizpilot import jobs
from bizpilot.access import REVIEW, require_permission
from bizpilot.actors import AUTO_SEND
from bizpilot.audit import audit_record
from bizpilot.errors import InvalidTransition, NotFound, ValidationFailed
from bizpilot.serializers import BLANK
from intelligence.drafting import ReplyDraft, reply_draft
from intelligence.voice import voice_example_learn
from leads.models import Channel
from messaging.models import Message, body_hash, lock_message

MAX_SUBJECT = 300
MAX_BODY = 20_000


def edit_size(before: str, after: str) -> int:
    """Characters inserted, deleted or replaced to turn `before` into `after`."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _require_pending_review(message: Message, verb: str) -> None:
    if message.status != Message.Status.PENDING_REVIEW:
        raise InvalidTransition(f"Only drafts pending review can be {verb}; this message is {message.status}.")


def _validate_text(subject: str | None, body: str | None, channel: str) -> None:
    fields: dict[str, list[str]] = {}
    if body is not None and not body.strip(BLANK):
        fields["body"] = ["The reply cannot be empty."]
    if body is not None and len(body) > MAX_BODY:
        fields["body"] = [f"Ensure this field has no more than {MAX_BODY} characters."]
    if subject is not None and len(subject) > MAX_SUBJECT:
        fields["subject"] = [f"Ensure this field has no more than {MAX_SUBJECT} characters."]
    if subject is not None and channel == Channel.EMAIL and not subject.strip(BLANK):
        fields["subject"] = ["An email needs a subject."]
    if fields:
        raise ValidationFailed("Invalid reply.", fields=fields)


def message_update_draft(
    *, message_id: int, actor: str, subject: str | None = None, body: str | None = None, user: Any = None
) -> Message:
    """Edit a draft that is still waiting for review; the original text is kept alongside, and how many characters
    changed (the edit size) is stored."""
    require_permission(user, REVIEW, "edit drafts")
    # Browsers submit textareas with CRLF line ends; the stored text (and its approval hash) uses plain newlines.
    subject = subject.replace("\r\n", "\n").replace("\r", "\n") if subject is not None else None
    body = body.replace("\r\n", "\n").replace("\r", "\n") if body is not None else None
    with transaction.atomic():
        message = lock_message(message_id)
        _require_pending_review(message, "edited")
        _validate_text(subject, body, message.channel)
        before = {"subject": message.subject, "body": message.body}
        if subject is not None:
            message.subject = subject.strip(BLANK)
        if body is not None:
            message.body = body.strip(BLANK)
        if before != {"subject": message.subject, "body": message.body}:
            message.edit_size = edit_size(
                f"{message.original_subject}\n{message.original_body}", f"{message.subject}\n{message.body}"
            )
            message.save(update_fields=["subject", "body", "edit_size", "updated_at"])
            audit_record(
                actor=actor,
                action="message.edit",
                obj=message,
                before=before,
                after={"subject": message.subject, "body": message.body},
            )
    return message


def message_approve(
    *, message_id: int, actor: str, subject: str | None = None, body: str | None = None, user: Any = None
) -> Message:
    """Approve a draft (optionally with edited text) and enqueue its sending once the transaction commits.

    The approval binds to the exact text approved: its hash is stored and checked again before sending.
    """
    require_permission(user, REVIEW, "approve replies")
    with transaction.atomic():
        if subject is not None or body is not None:
            message_update_draft(message_id=message_id, actor=actor, subject=subject, body=body, user=user)
        message = lock_message(message_id)
        _require_pending_review(message, "approved")
        try:
            _validate_text(message.subject, message.body, message.channel)
        except ValidationFailed as exc:  # the draft as stored, not the request, is wrong: edit it first
            problems = " ".join(problem for problems in exc.fields.values() for problem in problems)
            raise InvalidTransition(f"This draft cannot be sent as it is: {problems} Edit it first.") from exc
        message.status = Message.Status.APPROVED
        message.approved_hash = body_hash(message.subject, message.body)
        message.approved_by = actor
        message.reviewed_by = actor
        message.approved_at = timezone.now()
        message.save(
            update_fields=[
                "status",
                "approved_hash",
                "approved_by",
                "reviewed_by",
                "approved_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="message.approve",
            obj=message,
            before={"status": Message.Status.PENDING_REVIEW},
            after={"status": message.status, "edited": message.was_edited},
        )
        jobs.enqueue_on_commit("messaging.tasks.send_message", message_id, task_name=f"send_message-{message_id}")
        if actor != AUTO_SEND:  # what a person approved teaches the next drafts
            jobs.enqueue_on_commit("messaging.tasks.learn_voice", message_id, task_name=f"learn_voice-{message_id}")
    return message


def message_learn_voice(*, message_id: int) -> bool:
    """Keep a human-approved reply as an example of the business's voice (idempotent: one example per message)."""
    message = Message.objects.select_related("lead", "in_reply_to", "classification").filter(pk=message_id).first()
    if message is None or not message.approved_by or message.approved_by == AUTO_SEND or message.in_reply_to is None:
        return False
    voice_example_learn(
        message_id=message.pk,
        intent=message.classification.intent if message.classification else message.lead.intent,
        channel=message.channel,
        lead_name=message.lead.name,
        lead_text=f"{message.in_reply_to.subject}\n{message.in_reply_to.body}".strip(),
        reply_text=message.body,
        edited=message.was_edited,
    )
    return True


def message_regenerate(*, message_id: int, actor: str, note: str = "", user: Any = None) -> Message:
    """Draft a pending reply again, optionally with the operator's note to the model. The new text replaces the
    draft (the previous one is kept in the audit log), any approval is void, and it waits for review."""
    require_permission(user, REVIEW, "regenerate drafts")
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        raise NotFound(f"Message {message_id} does not exist.")
    _require_pending_review(message, "regenerated")
    if message.in_reply_to_id is None:
        raise InvalidTransition("This reply answers no stored message, so it cannot be drafted again.")
    if message.generated_by == Message.GeneratedBy.HOLDOUT:
        raise InvalidTransition("This lead is in the holdout: a person writes its reply, the model never drafts it.")
    variant = message.experiment_variant
    draft = reply_draft(  # the model call happens outside any transaction
        lead_id=message.lead_id,
        inbound_id=message.in_reply_to_id,
        classification_id=message.classification_id,
        channel=message.channel,
        operator_note=note,
        prompt_template_id=variant.prompt_template_id if variant else None,  # its experiment arm stays
    )
    with transaction.atomic():
        message = lock_message(message_id)
        _require_pending_review(message, "regenerated")  # reviewed meanwhile: keep what the reviewer saw
        before = {"subject": message.subject, "body": message.body, "generated_by": message.generated_by}
        message_take_draft(message, draft)
        message.generation_reason = draft.reason + (f" (operator's note: {note.strip()})" if note.strip() else "")
        message.auto_send_decision = "held for review: regenerated by an operator"
        message.save()
        audit_record(
            actor=actor,
            action="message.regenerate",
            obj=message,
            before=before,
            after={
                "subject": message.subject,
                "body": message.body,
                "note": note.strip(),
                "generated_by": message.generated_by,
            },
        )
    return message


def message_take_draft(message: Message, draft: ReplyDraft) -> None:
    """Put a new draft's text and verdict on a message waiting for review (locked by the caller, saved by it): the
    original text is the new draft, any approval and edit are void, the auto-send decision is to be made again."""
    message.original_subject = message.subject = draft.subject
    message.original_body = message.body = draft.body
    message.generated_by = draft.generated_by
    message.generation_reason = draft.reason
    message.template_name = draft.template_name
    message.prompt_template_id = draft.prompt_template_id
    message.model_call_id = draft.model_call_id
    message.draft_confidence = draft.confidence
    message.checks_failed = draft.checks_failed
    message.injection_signals = draft.injection_signals
    message.approved_hash = ""
    message.edit_size = 0
    message.auto_send_decision = ""


def message_reject(*, message_id: int, actor: str, reason: str = "", user: Any = None) -> Message:
    require_permission(user, REVIEW, "reject drafts")
    with transaction.atomic():
        message = lock_message(message_id)
        _require_pending_review(message, "rejected")
        message.status = Message.Status.REJECTED
        message.rejected_reason = reason.strip()
        message.reviewed_by = actor
        message.save(update_fields=["status", "rejected_reason", "reviewed_by", "updated_at"])
        audit_record(
            actor=actor,
            action="message.reject",
            obj=message,
            before={"status": Message.Status.PENDING_REVIEW},
            after={"status": message.status, "reason": message.rejected_reason},
        )
    return message
