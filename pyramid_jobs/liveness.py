"""The one rule that decides whether a running attempt is dead (the sweep and a redelivery ask it)."""
from __future__ import annotations

import os
import socket
import time


def this_worker() -> dict:
    """The host and process an attempt records, so that another process can tell if it died."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def pid_alive(pid: int) -> bool:
    """Whether a process of this host is still running (a zombie left by a killed worker is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def attempt_is_dead(doc: dict, stale_after: float, now: float | None = None) -> bool:
    """A running attempt is dead when its process on this host is gone, or its heartbeat is
    older than ``stale_after`` seconds (a process on another host, or a stuck one)."""
    now = time.time() if now is None else now
    worker = doc.get("worker") or {}
    if worker.get("host") == socket.gethostname() and worker.get("pid") and worker["pid"] != os.getpid():
        if not pid_alive(int(worker["pid"])):
            return True
    return (doc.get("heartbeat") or 0) < now - stale_after
