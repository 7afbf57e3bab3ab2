"""Bounds a job cannot escape: a memory ceiling per process, and (embedded worker) a child process per job.

A Celery prefork pool process gets its ceiling at start (:mod:`pyramid_jobs.celery_cli`) and
Celery's hard time limit kills it when stuck. The embedded worker runs jobs from threads of the
web process, where neither holds, so it runs each job in a forked child with the same ceiling,
killed at the same hard time limit; a child that dies is an attempt whose worker died.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import resource
import shutil
import signal
from dataclasses import replace
from typing import Any

from .liveness import attempt_is_dead
from .runner import NOTHING_TO_DO, Outcome, run_job
from .runtime import JobsRuntime
from .store import FAILED, RUNNING

log = logging.getLogger("pyramid_jobs.isolation")

PR_SET_PDEATHSIG = 1


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


def _die_with_parent() -> None:
    """A child outliving a killed web process would hold its listening socket: die with it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the sweep still takes the job back
        pass


def _child(job_id: str, runtime: JobsRuntime, conn: Any) -> None:
    _die_with_parent()
    set_memory_ceiling(runtime.settings.memory_limit)
    try:
        outcome = run_job(job_id, runtime)
    except BaseException as exc:  # reported to the parent, which decides
        conn.send(("error", repr(exc)))
    else:
        conn.send(("outcome", outcome))
    finally:
        conn.close()


def run_in_child(job_id: str, runtime: JobsRuntime) -> Outcome:
    """Run the job in a forked child process; a child that dies (killed, out of memory in C code)
    leaves a dead attempt, which is claimed again until ``jobs.max_attempts``."""
    context = multiprocessing.get_context("fork")
    for _ in range(runtime.settings.max_attempts + 1):
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(job_id, runtime, child), name=f"job-{job_id[:8]}",
                                  daemon=True)
        process.start()
        child.close()
        got = parent.poll(runtime.settings.hard_time_limit)
        message = _receive(parent) if got else None
        process.join(1 if message is not None else 0)
        if process.is_alive():
            process.kill()
            process.join()
        if message is not None and message[0] == "outcome":
            return replace(message[1], replace_process=False)  # that process is gone already
        if not got:
            return _overran(job_id, runtime, process.pid)
        log.warning("job %s: its process %s died (exit %s)", job_id, process.pid, process.exitcode)
        if not _requeue_dead(job_id, runtime):
            break
    return Outcome(None, NOTHING_TO_DO)


def _receive(conn: Any) -> tuple | None:
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


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


__all__ = ["run_in_child", "set_memory_ceiling"]
