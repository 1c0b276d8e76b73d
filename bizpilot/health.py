"""GET /healthz: is the database reachable, is the job queue reachable, is a worker alive."""

from __future__ import annotations

import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


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
    from django_q.models import OrmQ
    from django_q.status import Stat

    try:
        queued = OrmQ.objects.count()
        clusters = [stat for stat in Stat.get_all() if stat.status != "Stopped"]
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "queued": queued, "workers_alive": len(clusters)}


def llm_model_deprecation(model: str) -> str | None:
    """The end-of-life date the installed anthropic SDK lists for `model`, or None if it is not deprecated."""
    try:
        from anthropic._data import DEPRECATED_MODELS
    except ImportError:  # a future SDK may move its table; no warning then rather than a crash
        return None
    return DEPRECATED_MODELS.get(model)


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
    elif checks["queue"]["workers_alive"] == 0:
        state = "degraded"  # the web answers, but nothing processes jobs until a worker runs
    else:
        state = "ok"
    body = {"status": state, "checks": checks, "details": {"llm": _llm_details()}}
    return JsonResponse(body, status=200 if healthy else 503)
