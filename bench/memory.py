"""Memory of the whole `make run` stack: start it as a user would (its own embedded PostgreSQL and data directory,
default settings unless given), wait until it serves and the LLM queue's workers have preloaded the models, let it
idle, then sum the proportional set size (PSS, from /proc/<pid>/smaps_rollup: shared pages counted once across the
processes that share them) of every process it started, by role.

    .venv/bin/python bench/memory.py [--idle 20] [--env NAME=VALUE ...]

PostgreSQL is reported apart: it is the database, not BizPilot's code, and a production install may use a server of
its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def role(process: psutil.Process) -> str:
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        return "gone"
    if "postgres" in command or process.name().startswith("postgres"):
        return "postgresql"
    if "gunicorn" in command:
        return "web (gunicorn)"
    if "run_worker" in command:
        return "run_worker (watchdog)"
    if "qcluster" in command:
        try:
            queue = process.environ().get("Q_CLUSTER_NAME", "?")
        except psutil.Error:
            queue = "?"
        words = command.split()
        if len(words) >= 3 and words[0] == "qcluster" and words[2] in ("idle", "processing", "starting"):
            return f"job worker ({queue})"
        return f"cluster management ({queue})"
    if "bizpilot.run" in command:
        return "bizpilot.run (launcher)"
    return command[:60]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=float, default=20.0, help="seconds to idle after the preload")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the stack")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bizpilot-memory-"))
    port = 8700 + os.getpid() % 200
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update({"BIZPILOT_DATA_DIR": str(data), "PORT": str(port), "BIZPILOT_ENV": "development"})
    env.update(dict(item.split("=", 1) for item in args.env))
    log_path = data / "run.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "bizpilot.run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        while "BizPilot is running" not in log_path.read_text(errors="replace") or (
            "preloaded the models" not in log_path.read_text(errors="replace")
        ):
            if run.poll() is not None or time.monotonic() - started > 600:
                print(log_path.read_text(errors="replace")[-3000:])
                raise SystemExit("the stack did not start")
            time.sleep(0.5)
        ready = time.monotonic() - started
        time.sleep(args.idle)
        processes = [psutil.Process(run.pid), *psutil.Process(run.pid).children(recursive=True)]
        totals: dict[str, list[float]] = defaultdict(list)
        for process in processes:
            totals[role(process)].append(pss_mb(process.pid))
        print(f"ready (serving, models preloaded) {ready:.0f} s after start; idle {args.idle:.0f} s; PSS in MB")
        print("| role | processes | PSS each (MB) | PSS total (MB) |")
        print("| --- | --- | --- | --- |")
        bizpilot = 0.0
        for name, values in sorted(totals.items(), key=lambda item: -sum(item[1])):
            each = ", ".join(f"{v:.0f}" for v in sorted(values, reverse=True))
            print(f"| {name} | {len(values)} | {each} | {sum(values):.0f} |")
            if name != "postgresql":
                bizpilot += sum(values)
        print(f"\nBizPilot's processes: {bizpilot:.0f} MB PSS (PostgreSQL apart: {sum(totals['postgresql']):.0f} MB)")
    finally:
        run.send_signal(signal.SIGINT)
        try:
            run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
