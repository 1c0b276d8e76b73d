"""`make run`: start the embedded database (unless DATABASE_URL is set), migrate, seed the demo, then run the web
server (gunicorn, WEB_CONCURRENCY processes) and the job workers until Ctrl-C, and stop everything cleanly.
`make dev` (`--dev`) serves with Django's auto-reloading development server instead."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def log(text: str) -> None:
    print(f"[bizpilot] {text}", flush=True)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def wait_for_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (a local URL we built)
                return True
        except urllib.error.HTTPError:
            return True  # it answered (e.g. 503 while the worker starts): the server is up
        except OSError:
            time.sleep(0.3)
    return False


def stop(processes: list[subprocess.Popen]) -> None:
    # Signal only each main process: run_worker stops its cluster (SIGTERM, then SIGKILL of the cluster's group after
    # WORKER_STOP_SECONDS: a cluster frozen by a dead worker hangs on shutdown). Whatever is left after the grace
    # period is killed.
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers in its process group


def web_concurrency(env: dict[str, str]) -> int:
    """WEB_CONCURRENCY, else fitted to the cores: one web process per core plus one, at most 8. Measured with
    bench/ingest.py on 2 cores (docs/PERFORMANCE.md): 3 processes served POST /api/leads/ at p95 43 ms, 5 (gunicorn's
    usual two per core plus one) at 48 ms, since the job workers and PostgreSQL share the same cores."""
    value = env.get("WEB_CONCURRENCY", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"WEB_CONCURRENCY must be a whole number of processes, at least 1 (got {value!r})")
        return int(value)
    return min((os.cpu_count() or 1) + 1, 8)


def web_command(env: dict[str, str], host: str, port: str, *, dev: bool) -> list[str]:
    if dev:
        return [PYTHON, "manage.py", "runserver", f"{host}:{port}"]
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "bizpilot.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(web_concurrency(env)),
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
        # The app is imported once, before the web processes fork: they share its pages (PSS per process 127 MB
        # without it; bench/memory.py). Nothing opens a connection at import, so none is shared.
        "--preload",
    ]


def main(argv: list[str] | None = None) -> int:
    dev = "--dev" in (sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(BASE_DIR))
    from bizpilot.envfile import load_env_file

    load_env_file(BASE_DIR / ".env")
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = env.get("PORT", "8000")
    host = env.get("HOST", "127.0.0.1")
    embedded = not env.get("DATABASE_URL")
    if embedded:
        from bizpilot import embedded_db

        log(f"starting the embedded PostgreSQL (data in {embedded_db.pgdata_dir()})")
        env["DATABASE_URL"] = embedded_db.ensure_running()
    env.setdefault("PUBLIC_BASE_URL", f"http://localhost:{port}")

    processes: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    helpers: list[subprocess.Popen] = []
    try:
        log("applying migrations")
        manage("migrate", "--noinput", env=env)
        manage("createcachetable", env=env)
        demo = env.get("DEMO", "").strip().lower() in ("1", "true", "yes")
        if demo:
            log("loading the demo business (Northwind Web Studio)")
            manage("seed_demo", env=env)
        else:
            log("preparing your install (DEMO=1 loads the demo business instead)")
            manage("setup_install", env=env)

        # Each child gets its own process group so Ctrl-C reaches it through us, in order.
        env["WEB_CONCURRENCY"] = str(web_concurrency(env))  # gunicorn reads it too, and fails on an empty one
        command = web_command(env, host, port, dev=dev)
        server = "Django's auto-reloading development server" if dev else f"gunicorn, {web_concurrency(env)} processes"
        log(f"web: {server} on {host}:{port}")
        processes.append(subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True))
        processes.append(
            # The job worker under its watchdog (bizpilot/worker.py): a frozen cluster is restarted.
            subprocess.Popen([PYTHON, "manage.py", "run_worker"], cwd=BASE_DIR, env=env, start_new_session=True)
        )
        # A changed EMBEDDING_MODEL: everything stored is embedded again in the background while the old vectors
        # keep serving (intelligence/reembedding.py); it exits at once when there is nothing to do.
        helpers = [
            subprocess.Popen([PYTHON, "manage.py", "reembed", "--quiet"], cwd=BASE_DIR, env=env, start_new_session=True)
        ]
        base = f"http://localhost:{port}"
        if not wait_for_http(f"{base}/healthz", timeout=60):
            log("the web server did not answer within 60 seconds; see the output above")
            return 1
        log("BizPilot is running. Press Ctrl-C to stop web, worker and the embedded database.")
        for label, path in [
            ("Admin (review drafts)" if demo else "Admin: set up your business", "/admin/"),
            ("Try it", "/admin/try/"),
            ("API docs (Swagger UI)", "/api/docs/"),
            ("Analytics", "/analytics/"),
            ("Health", "/healthz"),
            ("Prometheus metrics", "/metrics"),
        ]:
            print(f"    {label:<24} {base}{path}", flush=True)
        while not stopping:
            for helper in [h for h in helpers if h.poll() is not None]:
                helpers.remove(helper)
                if helper.returncode:
                    log(f"re-embedding for EMBEDDING_MODEL stopped with code {helper.returncode}; see above")
            for process in processes:
                if process.poll() is not None:
                    args = process.args if isinstance(process.args, list) else [process.args]
                    name = " ".join(str(arg) for arg in args[1:3])
                    log(f"{name} exited with code {process.returncode}; stopping")
                    stopping = True
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        log(f"setup failed: {' '.join(exc.cmd[1:])} exited with {exc.returncode}")
        return 1
    finally:
        log("stopping web and worker")
        stop(processes + helpers)
        if embedded:
            from bizpilot import embedded_db

            log("stopping the embedded PostgreSQL")
            embedded_db.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
