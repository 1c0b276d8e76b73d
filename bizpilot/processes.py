"""Which process holds a claim, and whether it is gone: a row claimed by a worker that was killed can be claimed
again at once instead of after a lease. Only a process on this host can be known to be gone; elsewhere the lease
decides."""

from __future__ import annotations

import os
import socket

import psutil


def this_process() -> str:
    """`host:pid:start time` of the running process (the start time tells a reused pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(psutil.Process().create_time())}"


def process_gone(claimant: str) -> bool:
    """True when `claimant` (from `this_process`) names a process of this host that no longer runs."""
    try:
        host, pid, started = claimant.rsplit(":", 2)
        if host != socket.gethostname():
            return False
        process = psutil.Process(int(pid))
        return int(process.create_time()) != int(started) or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    except (ValueError, psutil.Error):
        return False
