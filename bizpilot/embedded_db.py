"""The embedded PostgreSQL (with pgvector) used when DATABASE_URL is not set.

The `pgserver` package ships PostgreSQL 16 with pgvector; this module starts a private server whose data lives under
`.data/pg`, creates the `bizpilot` database and returns a DATABASE_URL for it. The server listens on a Unix socket
only. It keeps running after the process that started it exits, so every command (web, worker, manage.py) shares
it; `make run` stops it on Ctrl-C and the test run stops it when the run itself started it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "bizpilot"
SUPERUSER = "postgres"

_started_here = False


def data_dir() -> Path:
    return Path(os.environ.get("BIZPILOT_DATA_DIR") or BASE_DIR / ".data").resolve()


def pgdata_dir() -> Path:
    return data_dir() / "pg"


def _import_pgserver():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver.utils
    return pgserver


def _postmaster_info():
    PostmasterInfo = _import_pgserver().utils.PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_dir())
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def is_running() -> bool:
    return _postmaster_info() is not None


def _url(socket_dir: Path, database: str) -> str:
    return f"postgresql://{SUPERUSER}@{quote(str(socket_dir), safe='')}/{database}"


def ensure_running() -> str:
    """Start the embedded server unless it runs already; return the DATABASE_URL of the `bizpilot` database."""
    global _started_here
    info = _postmaster_info()
    if info is None:
        pgserver = _import_pgserver()
        data_dir().mkdir(parents=True, exist_ok=True)
        logger.info("starting embedded PostgreSQL in %s", pgdata_dir())
        server = pgserver.get_server(pgdata_dir(), cleanup_mode=None)
        info = server.get_postmaster_info()
        _started_here = True
    _ensure_database(Path(info.socket_dir))
    return _url(Path(info.socket_dir), DATABASE_NAME)


def started_here() -> bool:
    return _started_here


def _ensure_database(socket_dir: Path) -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def stop() -> bool:
    """Stop the embedded server (fast shutdown: open sessions are rolled back). Return whether it was running."""
    if not is_running():
        return False
    from pgserver._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata_dir()), "-m", "fast", "-w", "stop"]
    if os.name == "posix" and os.geteuid() == 0:
        # pgserver runs the server as its own `pgserver` user when started by root.
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return True
