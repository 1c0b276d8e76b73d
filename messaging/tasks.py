"""django-q2 jobs of the messaging app: thin, idempotent wrappers that take ids and call one service. Services
enqueue them by name through bizpilot.jobs. Each binds the id it works on, so every line it logs names it."""

from __future__ import annotations

from datetime import datetime

from structlog.contextvars import bound_contextvars

from messaging.conversation import reply_turn_process
from messaging.pipeline import lead_process, leads_requeue_stalled
from messaging.reconcile import messages_reconcile_sending
from messaging.retention import expired_data_purge
from messaging.review import message_learn_voice
from messaging.routes import inbound_forward
from messaging.sending import message_send
from messaging.sequences import sequence_step_run, sequence_steps_run_due


def process_lead(lead_id: int) -> int | None:
    with bound_contextvars(lead_id=lead_id):
        message = lead_process(lead_id=lead_id)
    return message.pk if message else None


def process_reply(lead_id: int) -> int | None:
    with bound_contextvars(lead_id=lead_id):
        message = reply_turn_process(lead_id=lead_id)
    return message.pk if message else None


def forward_inbound(inbound_id: int, to: str) -> bool:
    return inbound_forward(inbound_id=inbound_id, to=to)


def send_message(message_id: int) -> str:
    with bound_contextvars(message_id=message_id):
        return message_send(message_id=message_id).status


def learn_voice(message_id: int) -> bool:
    return message_learn_voice(message_id=message_id)


def requeue_stalled_leads() -> int:
    return leads_requeue_stalled()


def run_due_sequence_steps() -> int:
    return sequence_steps_run_due()


def run_sequence_step(step_id: int, due_by: str | None = None) -> int | None:
    with bound_contextvars(sequence_step_id=step_id):
        message = sequence_step_run(step_id=step_id, now=datetime.fromisoformat(due_by) if due_by else None)
    return message.pk if message else None


def purge_expired() -> dict[str, int]:
    return expired_data_purge()


def reconcile_sending() -> dict[str, int]:
    return messages_reconcile_sending()
