"""Running one job: claim an attempt, run the processor, record the outcome.

Plain Python over the store and the processors, so it runs the same in a Celery worker, in the
embedded worker and in tests. The task in ``tasks.py`` is a thin shell around :func:`run_job`.
"""
from __future__ import annotations

import logging
import mimetypes
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from .context import JobContext
from .errors import JobCancelled, JobTimeLimit, ProcessingError
from .files import JobFiles
from .jobjson import job_json
from .limits import limits_for
from .plugins import ProcessorSet
from .renderers import dumps
from .settings import JobsSettings
from .store import CANCELLED, FAILED, SUCCEEDED, JobStore, StaleAttempt

log = logging.getLogger("pyramid_jobs.runner")


@dataclass
class JobEnv:
    """What running a job needs; built once per process from the registry."""

    settings: JobsSettings
    store: JobStore
    processors: ProcessorSet
    plugin_manager: Any = None
    registry: Any = None

    @property
    def files(self) -> JobFiles:
        return JobFiles(self.settings.data_dir)


def this_worker() -> dict:
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
    """A running attempt is dead when its process on this host is gone, or its heartbeat is stale."""
    now = time.time() if now is None else now
    worker = doc.get("worker") or {}
    if worker.get("host") == socket.gethostname() and worker.get("pid") and worker["pid"] != os.getpid():
        if not pid_alive(int(worker["pid"])):
            return True
    return (doc.get("heartbeat") or 0) < now - stale_after


class _Heartbeat(threading.Thread):
    """Keeps the record's heartbeat fresh while a processor is busy inside a long library call."""

    def __init__(self, env: JobEnv, job_id: str, attempt: int, ctx: JobContext):
        super().__init__(name=f"heartbeat-{job_id[:8]}", daemon=True)
        self.env, self.job_id, self.attempt, self.ctx = env, job_id, attempt, ctx
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.env.settings.heartbeat_interval):
            try:
                if self.env.store.report(self.job_id, self.attempt, None):
                    self.ctx.progress.cancelled = True
            except StaleAttempt:
                self.ctx.progress.cancelled = True
            except Exception:  # the store is down: keep trying, the job goes on
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)


def run_job(job_id: str, env: JobEnv) -> str | None:
    """Run the job if it needs running; answers its final state, or None when this delivery
    had nothing to do (already ended, or owned by a live attempt elsewhere)."""
    settings, store = env.settings, env.store
    doc = store.claim(job_id, this_worker(), takeover=lambda d: attempt_is_dead(d, settings.stale_after))
    if doc is None:
        return None
    if doc["state"] == CANCELLED:
        log.info("job %s: cancelled before it started", job_id)
        _notify(env, doc)
        return CANCELLED
    attempt = doc["attempt"]
    log.info("job %s: running attempt %d (%s) on %s", job_id, attempt, doc["processor"], socket.gethostname())
    files = env.files
    out_dir = files.attempt_dir(job_id, attempt)
    shutil.rmtree(out_dir, ignore_errors=True)

    processor = env.processors.get(doc["processor"])
    if processor is None:
        return _finish(env, doc, FAILED, error={"code": "unknown_processor", "message":
                       f"The processor {doc['processor']!r} is not installed on this worker."})

    ctx = JobContext(
        files.upload(job_id),
        out_dir=out_dir,
        steps=processor.steps,
        filename=doc["filename"],
        options=doc.get("options") or {},
        limits=limits_for(processor, settings.limits),
        sink=lambda snapshot: store.report(job_id, attempt, snapshot),
        interval=settings.progress_interval,
        deadline=time.monotonic() + settings.time_limit,
        registry=env.registry,
        job_id=job_id,
    )
    heartbeat = _Heartbeat(env, job_id, attempt, ctx)
    heartbeat.start()
    try:
        result = processor.process(ctx)
        if not isinstance(result, dict):
            raise TypeError(f"process() returned {type(result).__name__}, not a dict")
        text = dumps(result, separators=(",", ":"))
    except StaleAttempt:
        log.warning("job %s: attempt %d lost the job (cancelled, deleted or taken over)", job_id, attempt)
        shutil.rmtree(out_dir, ignore_errors=True)
        _end_after_stale(env, job_id, attempt)
        return None
    except JobCancelled:
        return _finish(env, doc, CANCELLED)
    except JobTimeLimit:
        return _finish(env, doc, FAILED, error=_time_limit_error(settings))
    except ProcessingError as exc:
        return _finish(env, doc, FAILED, error={"code": exc.code, "message": exc.message})
    except MemoryError:
        return _finish(env, doc, FAILED, error={"code": "too_large", "message":
                       "The file needed more memory than this worker has; try a smaller file."})
    except Exception as exc:
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            return _finish(env, doc, FAILED, error=_time_limit_error(settings))
        log.exception("job %s: processor %s failed", job_id, processor.name)
        return _finish(env, doc, FAILED, error={"code": "processing_failed", "message":
                       f"The {processor.name} processor could not process this file. "
                       "The error was logged for the service's operators."})
    finally:
        heartbeat.stopped.set()

    artifacts = []
    for name, path in sorted(ctx.artifacts.items()):
        if path.is_file():
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            artifacts.append({"name": name, "size": path.stat().st_size, "media_type": media_type})
    return _finish(env, doc, SUCCEEDED, result=text, artifacts=artifacts)


def _time_limit_error(settings: JobsSettings) -> dict:
    return {"code": "time_limit", "message": f"The job ran over its time limit of {settings.time_limit:.0f} seconds."}


def _finish(env: JobEnv, doc: dict, state: str, *, result: str | None = None, error: dict | None = None,
            artifacts: list[dict] | None = None) -> str | None:
    job_id, attempt = doc["id"], doc["attempt"]
    final = env.store.finish(job_id, attempt, state, result=result, error=error, artifacts=artifacts)
    if final is None:
        log.warning("job %s: attempt %d finished after losing the job; its outcome is dropped", job_id, attempt)
        shutil.rmtree(env.files.attempt_dir(job_id, attempt), ignore_errors=True)
        _end_after_stale(env, job_id, attempt)
        return None
    if state != SUCCEEDED:
        shutil.rmtree(env.files.attempt_dir(job_id, attempt), ignore_errors=True)
    env.files.remove_other_attempts(job_id, attempt)
    log.info("job %s: %s (attempt %d)%s", job_id, state, attempt, f" [{error['code']}]" if error else "")
    _notify(env, final)
    return state


def _end_after_stale(env: JobEnv, job_id: str, attempt: int) -> None:
    """A job deleted while it ran leaves no files behind."""
    if env.store.get(job_id) is None:
        env.files.remove(job_id)


def _notify(env: JobEnv, doc: dict) -> None:
    if env.plugin_manager is None:
        return
    try:
        env.plugin_manager.hook.jobs_job_finished(job=job_json(doc), registry=env.registry)
    except Exception:
        log.exception("job %s: a jobs_job_finished hook failed", doc["id"])


__all__ = ["JobEnv", "run_job", "attempt_is_dead", "this_worker"]
