"""Structured logs: every record (Django's, the worker's, ours) is one JSON line, with the request id if any."""

from __future__ import annotations

import logging.config
import re
import uuid
from typing import Any

import structlog
from django.core.signals import request_finished

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_shared_processors: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def build_logging_config(*, level: str, fmt: str) -> dict[str, Any]:
    renderer = "structlog.dev.ConsoleRenderer" if fmt == "console" else "structlog.processors.JSONRenderer"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _renderer(renderer),
                ],
                "foreign_pre_chain": _shared_processors,
            },
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "httpx": {"level": "WARNING"},
            "httpx2": {"level": "WARNING"},
            "sentence_transformers": {"level": "WARNING"},
            "pgserver": {"level": "WARNING"},
        },
    }


def _renderer(dotted: str) -> Any:
    if dotted.endswith("ConsoleRenderer"):
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


def configure(config: dict[str, Any]) -> None:
    """LOGGING_CONFIG hook: configure the standard library and structlog together."""
    logging.config.dictConfig(config)
    structlog.configure(
        processors=[
            *_shared_processors,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class RequestIdMiddleware:
    """Take the caller's X-Request-ID (or make one), bind it to every log line, and echo it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        # Not cleared on the way out: Django logs the response ("Bad Request: ...") after the middleware returns.
        # The request_finished signal clears it once the response is done.
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _clear_request_context(**kwargs) -> None:
    structlog.contextvars.clear_contextvars()


request_finished.connect(_clear_request_context, dispatch_uid="bizpilot.logging.clear_request_context")


# The ids a log line is about, carried from the request into the jobs it enqueues (bizpilot.jobs) and bound again
# in the worker, so one request id follows a lead from the API through its job to the send.
CARRIED = ("request_id", "lead_id", "message_id")
JOB_CONTEXT_KWARG = "_log_context"


def job_context() -> dict[str, Any]:
    """What a job enqueued now should log with."""
    return {k: v for k, v in structlog.contextvars.get_contextvars().items() if k in CARRIED}


def bind_job_context(sender: Any, *, func: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """django-q2's pre_execute: take the carried ids out of the task's kwargs (the task never sees them) and bind
    them, with the task's name, for every line the task logs. A worker starts each task afresh; a task run inline
    (JOBS_SYNC) adds to the request's context."""
    context = (task.get("kwargs") or {}).pop(JOB_CONTEXT_KWARG, None) or {}
    if not task.get("sync"):
        structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task=task.get("name", ""), **context)
