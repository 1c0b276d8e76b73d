"""`make run`: start the embedded database (unless DATABASE_URL is set), migrate, seed the demo, then run the web
server and the job worker until Ctrl-C, and stop everything cleanly."""

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


def main() -> int:
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
    try:
        log("applying migrations")
        manage("migrate", "--noinput", env=env)
        manage("createcachetable", env=env)
        log("loading the demo data")
        manage("seed_demo", env=env)

        # Each child gets its own process group so Ctrl-C reaches it through us, in order.
        processes.append(
            subprocess.Popen(
                [PYTHON, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
                cwd=BASE_DIR,
                env=env,
                start_new_session=True,
            )
        )
        processes.append(
            # The job worker under its watchdog (bizpilot/worker.py): a frozen cluster is restarted.
            subprocess.Popen([PYTHON, "manage.py", "run_worker"], cwd=BASE_DIR, env=env, start_new_session=True)
        )
        base = f"http://localhost:{port}"
        if not wait_for_http(f"{base}/healthz", timeout=60):
            log("the web server did not answer within 60 seconds; see the output above")
            return 1
        log("BizPilot is running. Press Ctrl-C to stop web, worker and the embedded database.")
        for label, path in [
            ("Admin (review drafts)", "/admin/"),
            ("API docs (Swagger UI)", "/api/docs/"),
            ("Analytics", "/analytics/"),
            ("Health", "/healthz"),
            ("Prometheus metrics", "/metrics"),
        ]:
            print(f"    {label:<24} {base}{path}", flush=True)
        while not stopping:
            for process in processes:
                if process.poll() is not None:
                    args = process.args if isinstance(process.args, list) else [process.args]
                    name = " ".join(str(arg) for arg in args[2:3])
                    log(f"{name} exited with code {process.returncode}; stopping")
                    stopping = True
            time.sleep(0.5)
        return 0
    except subprocess.CalledProcessError as exc:
        log(f"setup failed: {' '.join(exc.cmd[1:])} exited with {exc.returncode}")
        return 1
    finally:
        log("stopping web and worker")
        stop(processes)
        if embedded:
            from bizpilot import embedded_db

            log("stopping the embedded PostgreSQL")
            embedded_db.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
