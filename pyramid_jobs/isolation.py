"""Bounds a job cannot escape: a memory ceiling per process, and (embedded worker) a child process per job.

A Celery prefork pool process gets its ceiling at start (:mod:`pyramid_jobs.celery_cli`) and
Celery's hard time limit kills it when stuck. The embedded worker runs jobs from threads of the
web process, where neither holds, so it runs each job in a child process with the same ceiling,
killed at the same hard time limit; a child that dies is an attempt whose worker died. The
children are forked by the embedded worker's fork server (:mod:`pyramid_jobs.forkserver`), never
by the many-threaded web process, so none starts with a lock another thread held.
"""
from __future__ import annotations

import logging
import resource
import shutil
import socket
import threading
from dataclasses import replace

from .forkserver import ForkServer, send
from .liveness import attempt_is_dead
from .runner import NOTHING_TO_DO, Outcome, run_job
from .runtime import JobsRuntime
from .store import FAILED, RUNNING

log = logging.getLogger("pyramid_jobs.isolation")


def set_memory_ceiling(limit: int) -> None:
    """Let this process map at most ``limit`` bytes more than it maps now (``RLIMIT_AS``; 0:
    no ceiling). What it maps already (the worker's code, libraries and thread stacks, shared
    with its parent after the fork) is not the job's."""
    if limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = _mapped() + limit
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _mapped() -> int:
    """The bytes of address space this process maps now (Linux; elsewhere 0)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def start_fork_server(runtime: JobsRuntime) -> ForkServer:
    """The embedded worker's fork server, started before its threads. The store's connection of
    this thread is closed first, so the server inherits no open SQLite connection either; the
    server loads the processors' libraries once (:meth:`Processor.warm`), so no job pays for them."""
    runtime.store.close()
    return ForkServer(lambda job_id, conn: _child(job_id, runtime, conn), warm=runtime.processors.warm)


def _child(job_id: str, runtime: JobsRuntime, conn: socket.socket) -> None:
    from pyramid.threadlocal import manager

    threading.current_thread().name = f"job-{job_id[:8]}"
    set_memory_ceiling(runtime.settings.memory_limit)
    # the host's registry is "current" while the job runs, as it is in the worker
    manager.push({"registry": runtime.registry, "request": None})
    try:
        outcome = run_job(job_id, runtime)
    except BaseException as exc:  # reported to the web process, which decides
        send(conn, ("error", repr(exc)[:2000]))
    else:
        send(conn, ("outcome", outcome))
    finally:
        conn.close()


def run_in_child(job_id: str, runtime: JobsRuntime) -> Outcome:
    """Run the job in a child process of the fork server; a child that dies (killed, out of memory
    in C code) leaves a dead attempt, which is claimed again until ``jobs.max_attempts``."""
    forks: ForkServer = runtime.embedded_worker.forks
    for _ in range(runtime.settings.max_attempts + 1):
        child = forks.fork(job_id)
        try:
            message = child.report(runtime.settings.hard_time_limit)
            overran = message is None and not child.ended
            child.join(1 if message is not None else 0)
            if not child.ended:
                child.kill()
        finally:
            child.close()
        if message is not None and message[0] == "outcome":
            return replace(message[1], replace_process=False)  # that process is gone already
        if overran:
            return _overran(job_id, runtime, child.pid)
        log.warning("job %s: its process %s died (exit %s)", job_id, child.pid, child.exitcode)
        if not _requeue_dead(job_id, runtime):
            break
    return Outcome(None, NOTHING_TO_DO)


def _overran(job_id: str, runtime: JobsRuntime, pid: int | None) -> Outcome:
    """The child ran past the hard time limit and was killed: its attempt fails ``time_limit``."""
    doc = runtime.store.get(job_id)
    if doc is None or doc["state"] != RUNNING or (doc.get("worker") or {}).get("pid") != pid:
        return Outcome(None, NOTHING_TO_DO)
    message = f"The job ran over its time limit of {runtime.settings.time_limit:.0f} seconds."
    runtime.store.finish(job_id, doc["attempt"], FAILED, error={"code": "time_limit", "message": message})
    shutil.rmtree(runtime.files.attempt_dir(job_id, doc["attempt"]), ignore_errors=True)
    log.info("job %s: failed (attempt %d) [time_limit] after its process was killed", job_id, doc["attempt"])
    return Outcome(FAILED, "ran")


def _requeue_dead(job_id: str, runtime: JobsRuntime) -> bool:
    """Put the dead child's attempt back in the queue; answers whether there is a job to run again."""
    doc = runtime.store.get(job_id)
    if doc is None or doc["state"] != RUNNING or not attempt_is_dead(doc, runtime.settings.stale_after):
        return False
    return runtime.store.requeue(job_id) is not None


__all__ = ["run_in_child", "start_fork_server", "set_memory_ceiling"]
