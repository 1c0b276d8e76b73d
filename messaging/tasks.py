"""django-q2 jobs: thin, idempotent wrappers that take ids and call one service."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def process_lead(lead_id: int) -> int | None:
    from messaging.services import lead_process

    message = lead_process(lead_id=lead_id)
    return message.pk if message else None


def send_message(message_id: int) -> str:
    from messaging.services import message_send

    return message_send(message_id=message_id).status


def learn_voice(message_id: int) -> bool:
    from messaging.services import message_learn_voice

    return message_learn_voice(message_id=message_id)


def requeue_stalled_leads() -> int:
    from messaging.services import leads_requeue_stalled

    return leads_requeue_stalled()


def enqueue_process_lead(lead_id: int) -> None:
    _enqueue("messaging.tasks.process_lead", lead_id, name=f"process_lead-{lead_id}")


def enqueue_send_message(message_id: int) -> None:
    _enqueue("messaging.tasks.send_message", message_id, name=f"send_message-{message_id}")


def enqueue_learn_voice(message_id: int) -> None:
    _enqueue("messaging.tasks.learn_voice", message_id, name=f"learn_voice-{message_id}")


def _enqueue(func: str, object_id: int, *, name: str) -> None:
    try:
        async_task(func, object_id, task_name=name, group=func.rsplit(".", 1)[-1])
    except Exception:
        # Enqueueing runs after commit, so the data is safe; the scheduled sweep (requeue_stalled_leads) or an
        # operator's retry picks the object up. Log loudly rather than fail the request that already committed.
        logger.exception("could not enqueue %s for %s", func, object_id)
