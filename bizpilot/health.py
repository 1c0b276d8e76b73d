"""GET /healthz: is the database reachable, is the job queue reachable and moving, is a worker alive."""

from __future__ import annotations

import logging
import time

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
    except Exception as exc:  # any failure here means "not reachable"; the reason is reported
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "ok": row is not None,
        "pgvector": row[0] if row else None,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        **({} if row else {"error": "the vector extension is not installed"}),
    }


def _check_queue() -> dict:
    """The queues are reachable; how many tasks wait and for how long, whether tasks are moving, and the workers:
    in all and for each queue (the default one and the LLM one, each with its own cluster)."""
    from django.conf import settings
    from django_q.status import Stat

    from bizpilot.queue import queue_state, worker_restarts, workers_reported

    try:
        per_queue = {name: queue_state(name) for name in settings.JOB_QUEUES}
        clusters = [stat for stat in Stat.get_all() if stat.status != "Stopped"]
        reports = workers_reported()
        restarts = worker_restarts()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    processes = [(report.get("queue"), p) for report in reports for p in report.get("workers", [])]
    # A worker busy on a long task is not a frozen queue (the watchdog reports what each worker is doing).
    stalled = {
        name: state.stalled and not any(p.get("busy") for queue, p in processes if queue == name)
        for name, state in per_queue.items()
    }
    queues = {
        name: {
            "waiting": state.waiting,
            "in_flight": state.in_flight,
            "oldest_task_age_seconds": state.oldest_task_seconds,
            "tasks_finished_recently": state.finished_recently,
            "stalled": stalled[name],
            "worker_processes": sum(1 for queue, _ in processes if queue == name),
        }
        for name, state in per_queue.items()
    }
    states = list(per_queue.values())
    ages = [s.oldest_task_seconds for s in states if s.oldest_task_seconds is not None]
    finished = [s.last_finished_seconds_ago for s in states if s.last_finished_seconds_ago is not None]
    return {
        "ok": True,
        "queued": sum(s.waiting + s.in_flight for s in states),
        "waiting": sum(s.waiting for s in states),
        "in_flight": sum(s.in_flight for s in states),
        "oldest_task_age_seconds": max(ages, default=None),
        "tasks_finished_recently": sum(s.finished_recently for s in states),
        "last_task_finished_seconds_ago": min(finished, default=None),
        "stall_seconds": settings.WORKER_STALL_SECONDS,
        "stalled": any(stalled.values()),
        "workers_alive": len(clusters),
        "worker_processes": [
            {"queue": queue, "pid": p["pid"], "rss_mb": round(p["rss_bytes"] / 2**20, 1), "busy": p["busy"]}
            for queue, p in processes
        ],
        "worker_restarts": restarts,
        "queues": queues,
    }


def llm_model_deprecation(model: str) -> str | None:
    """The end-of-life date the installed anthropic SDK lists for `model`, or None if it is not deprecated. Its table
    is read from the SDK's file without importing the SDK: importing `anthropic` costs every process 76 MB, and
    every process asks this once (intelligence.apps) while most never call the LLM."""
    global _deprecated_models
    if _deprecated_models is None:
        _deprecated_models = _read_deprecated_models()
    return _deprecated_models.get(model)


_deprecated_models: dict[str, str] | None = None


def _read_deprecated_models() -> dict[str, str]:
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("anthropic")
        folder = Path(next(iter(spec.submodule_search_locations or []))) if spec else None
        path = folder / "_data" / "deprecated_models.py" if folder else None
        if path is None or not path.exists():
            return {}  # a future SDK may move its table: no warning then, rather than a crash
        module_spec = importlib.util.spec_from_file_location("bizpilot_anthropic_deprecated_models", path)
        if module_spec is None or module_spec.loader is None:
            return {}
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return dict(getattr(module, "DEPRECATED_MODELS", {}))
    except Exception:  # the same: an unreadable table means no warning
        return {}


def _llm_details() -> dict:
    from django.conf import settings

    if settings.LLM_PROVIDER == "ollama":
        return {"enabled": True, "provider": "ollama", "model": settings.OLLAMA_MODEL, "url": settings.OLLAMA_BASE_URL}
    details = {"enabled": bool(settings.ANTHROPIC_API_KEY), "provider": "anthropic", "model": settings.LLM_MODEL}
    end_of_life = llm_model_deprecation(settings.LLM_MODEL)
    if end_of_life:
        details["warning"] = f"{settings.LLM_MODEL} is deprecated and reaches end of life on {end_of_life}"
    return details


@require_GET
def healthz(request):
    checks = {"database": _check_database()}
    checks["queue"] = _check_queue() if checks["database"]["ok"] else {"ok": False, "error": "database unreachable"}
    healthy = all(check["ok"] for check in checks.values())
    if not healthy:
        state = "down"
    elif checks["queue"]["stalled"]:
        state = "stalled"  # tasks wait and none moves: nothing is being answered
        healthy = False
    elif checks["queue"]["workers_alive"] == 0:
        state = "degraded"  # the web answers, but nothing processes jobs until a worker runs
    else:
        state = "ok"
    body = {"status": state, "checks": checks, "details": {"llm": _llm_details()}}
    return JsonResponse(body, status=200 if healthy else 503)


class DatabaseUnavailableMiddleware:
    """PostgreSQL is away (stopped, restarting, unreachable): the API and the webhooks answer 503 JSON with
    Retry-After (providers retry their webhooks on it), pages a plain 503, never a 500 traceback. Nothing is
    half-written: every write is in a transaction that the lost connection rolled back. The next request
    reconnects (CONN_HEALTH_CHECKS) once the database is back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("database unavailable: %s %s: %s", request.method, request.path, exception)
        response: HttpResponse
        if request.path.startswith(("/api/", "/webhooks/")):
            from bizpilot.api_errors import error_response

            response = error_response(503, "unavailable", "The database is unavailable; try again shortly.")
        else:
            response = HttpResponse("BizPilot's database is unavailable; try again shortly.", status=503)
        response["Retry-After"] = "5"
        return response
