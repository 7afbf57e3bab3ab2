"""Running one job: claim an attempt, build the processor's context, run it, record the outcome.

Plain Python over the store and the processors, so it runs the same in a Celery worker, in the
embedded worker and in tests. The Celery task in ``tasks.py`` is a thin shell around
:func:`run_job`, which answers an :class:`Outcome` the task acts on.
"""
from __future__ import annotations

import errno
import logging
import mimetypes
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from billiard.exceptions import SoftTimeLimitExceeded

from .context import JobContext
from .errors import JobCancelled, JobTimeLimit, ProcessingError
from .events import JobFinished
from .jobjson import job_json
from .limits import limits_for
from .liveness import attempt_is_dead, this_worker
from .processor import Processor
from .renderers import dumps
from .runtime import JobsRuntime
from .settings import JobsSettings, format_size
from .store import CANCELLED, FAILED, RUNNING, SUCCEEDED, StaleAttempt, StoreUnavailable

log = logging.getLogger("pyramid_jobs.runner")

#: Why :func:`run_job` ended as it did.
RAN = "ran"                          # the processor ran; ``state`` is the job's final state
ENDED_AT_CLAIM = "ended_at_claim"    # cancelled before it started, or out of attempts
NOTHING_TO_DO = "nothing_to_do"      # already ended, deleted, or unknown
OWNED_ELSEWHERE = "owned_elsewhere"  # a live attempt elsewhere runs it; look again once it could be stale
LOST = "lost"                        # this attempt lost the job (cancelled, deleted or taken over) while it ran
RETRY_LATER = "retry_later"          # not the file's fault (disk full, store away): queued again

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class Outcome:
    """What one delivery of a job did."""

    #: The job's state once this delivery is done with it, or ``None`` when it changed nothing.
    state: str | None
    #: One of the reasons above.
    reason: str
    #: For :data:`OWNED_ELSEWHERE`: seconds after which the owner would be stale, to look again.
    retry_after: float | None = None
    #: The job ran out of memory: the process that ran it should be replaced by a fresh one.
    replace_process: bool = False


@dataclass(frozen=True)
class _Failure:
    """How a processor's exception ends the attempt."""

    state: str | None  # None: not the file's fault, the job is queued again
    error: dict | None = None


class Attempt:
    """One attempt's link to its record: the single path by which it writes progress and heartbeats
    and learns that the job was cancelled (or lost to another attempt)."""

    def __init__(self, runtime: JobsRuntime, doc: dict):
        self.store, self.job_id, self.number = runtime.store, doc["id"], doc["attempt"]
        self.settings = runtime.settings
        self.cancelled = threading.Event()
        self.lost = False

    def report(self, snapshot: dict | None) -> bool:
        """Write progress (or a heartbeat); answers whether the job was cancelled.

        A store that does not answer pauses progress writes, never the job: the next write
        tries again. A lost attempt is told as a cancel, so the processor stops at once."""
        try:
            if self.store.report(self.job_id, self.number, snapshot):
                self.cancelled.set()
        except StaleAttempt:
            self.lost = True
            self.cancelled.set()
        except StoreUnavailable:
            log.warning("job %s: the store does not answer; progress is not recorded for now", self.job_id)
        return self.cancelled.is_set()

    @contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Keep the record's heartbeat fresh while a processor is busy inside a long library call."""
        stopped = threading.Event()

        def beat() -> None:
            while not stopped.wait(self.settings.heartbeat_interval):
                try:
                    self.report(None)
                except Exception:  # never let the heartbeat thread die silently
                    log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.job_id[:8]}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stopped.set()


def run_job(job_id: str, runtime: JobsRuntime) -> Outcome:
    """Run the job if this delivery should; answers what it did."""
    doc, owned_elsewhere = claim(job_id, runtime)
    if doc is None:
        if owned_elsewhere:
            return Outcome(None, OWNED_ELSEWHERE, retry_after=runtime.settings.stale_after + 1)
        return Outcome(None, NOTHING_TO_DO)
    if doc["state"] != RUNNING:
        log.info("job %s: %s before it started%s", job_id, doc["state"],
                 f" [{doc['error']['code']}]" if doc.get("error") else "")
        _notify(runtime, doc)
        return Outcome(doc["state"], ENDED_AT_CLAIM)
    processor = runtime.processors.get(doc["processor"])
    if processor is None:
        return _finish(runtime, doc, FAILED, error={"code": "unknown_processor", "message":
                       f"The processor {doc['processor']!r} is not installed on this worker."})
    log.info("job %s: running attempt %d (%s) on %s", job_id, doc["attempt"], doc["processor"], socket.gethostname())
    attempt = Attempt(runtime, doc)
    ctx = build_context(runtime, doc, processor, attempt)
    with attempt.heartbeat():
        try:
            text = _process(processor, ctx)
        except Exception as exc:
            outcome = _end_with(runtime, doc, attempt, classify(exc, runtime.settings, processor, job_id))
            return replace(outcome, replace_process=isinstance(exc, MemoryError))
    return _finish(runtime, doc, SUCCEEDED, result=text, artifacts=_artifacts(ctx), progress=ctx.progress.completed())


def claim(job_id: str, runtime: JobsRuntime) -> tuple[dict | None, bool]:
    """Start an attempt: answers its record (or the record ended at the claim), and whether the
    job is owned by another attempt that still looks alive."""
    settings = runtime.settings
    verdicts: list[bool] = []

    def takeover(doc: dict) -> bool:
        dead = attempt_is_dead(doc, settings.stale_after)
        verdicts.append(dead)
        return dead

    doc = runtime.store.claim(job_id, this_worker(), takeover=takeover, max_attempts=settings.max_attempts)
    if doc is not None and doc["state"] == RUNNING:
        shutil.rmtree(runtime.files.attempt_dir(job_id, doc["attempt"]), ignore_errors=True)
    return doc, doc is None and bool(verdicts) and not verdicts[-1]


def build_context(runtime: JobsRuntime, doc: dict, processor: Processor, attempt: Attempt) -> JobContext:
    settings = runtime.settings
    return JobContext(
        runtime.files.upload(doc["id"]),
        out_dir=runtime.files.attempt_dir(doc["id"], doc["attempt"]),
        steps=processor.steps,
        filename=doc["filename"],
        options=doc.get("options") or {},
        limits=limits_for(processor, settings.limits),
        sink=attempt.report,
        interval=settings.progress_interval,
        deadline=time.monotonic() + settings.time_limit,
        registry=runtime.registry,
        job_id=doc["id"],
    )


def _process(processor: Processor, ctx: JobContext) -> str:
    result = processor.process(ctx)
    if not isinstance(result, dict):
        raise TypeError(f"process() returned {type(result).__name__}, not a dict")
    return dumps(result, separators=(",", ":"))


def classify(exc: Exception, settings: JobsSettings, processor: Processor, job_id: str) -> _Failure:
    """How an exception out of a processor ends the attempt."""
    if isinstance(exc, JobCancelled):
        return _Failure(CANCELLED)
    if isinstance(exc, (JobTimeLimit, SoftTimeLimitExceeded)):
        return _Failure(FAILED, {"code": "time_limit",
                                 "message": f"The job ran over its time limit of {settings.time_limit:.0f} seconds."})
    if isinstance(exc, ProcessingError):
        return _Failure(FAILED, {"code": exc.code, "message": exc.message})
    if isinstance(exc, MemoryError):
        return _Failure(FAILED, {"code": "too_large", "message": f"The file needed more than "
                                 f"{format_size(settings.memory_limit)} of memory; try a smaller file."})
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        log.error("job %s: the data volume is full: %s", job_id, exc)
        return _Failure(None, {"code": "insufficient_storage", "message":
                               "The service ran out of storage space while processing this file; "
                               "try again later."})
    if isinstance(exc, StoreUnavailable):
        log.warning("job %s: the store did not answer at the end of the job; it will run again", job_id)
        return _Failure(None, None)
    log.exception("job %s: processor %s failed", job_id, processor.name, exc_info=exc)
    return _Failure(FAILED, {"code": "processing_failed", "message":
                             f"The {processor.name} processor could not process this file. "
                             "The error was logged for the service's operators."})


def _end_with(runtime: JobsRuntime, doc: dict, attempt: Attempt, failure: _Failure) -> Outcome:
    if attempt.lost:
        log.warning("job %s: attempt %d lost the job (cancelled, deleted or taken over)", doc["id"], doc["attempt"])
        _drop_attempt(runtime, doc)
        return Outcome(None, LOST)
    if failure.state is None:
        return _retry_later(runtime, doc, failure.error)
    return _finish(runtime, doc, failure.state, error=failure.error)


def _retry_later(runtime: JobsRuntime, doc: dict, error: dict | None) -> Outcome:
    """Not the file's fault: the job goes back to the queue (the sweep sends it again), or fails
    with ``error`` once it ran out of attempts."""
    shutil.rmtree(runtime.files.attempt_dir(doc["id"], doc["attempt"]), ignore_errors=True)
    try:
        new = runtime.store.release(doc["id"], doc["attempt"], error=error, max_attempts=runtime.settings.max_attempts)
    except StoreUnavailable:
        new = None  # the heartbeat goes stale, and the sweep takes the job back
    if new is None:
        return Outcome(None, LOST)
    log.info("job %s: attempt %d gave the job back (%s)", doc["id"], doc["attempt"], new["state"])
    if new["state"] == FAILED:
        _notify(runtime, new)
    return Outcome(new["state"], RETRY_LATER)


def _artifacts(ctx: JobContext) -> list[dict]:
    out = []
    for name, path in sorted(ctx.artifacts.items()):
        if path.is_file():
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            out.append({"name": name, "size": path.stat().st_size, "media_type": media_type})
    return out


def _finish(runtime: JobsRuntime, doc: dict, state: str, *, result: str | None = None, error: dict | None = None,
            artifacts: list[dict] | None = None, progress: dict | None = None) -> Outcome:
    job_id, attempt = doc["id"], doc["attempt"]
    final = _store_outcome(runtime, doc, state, result=result, error=error, artifacts=artifacts, progress=progress)
    if final is None:
        log.warning("job %s: attempt %d finished after losing the job; its outcome is dropped", job_id, attempt)
        _drop_attempt(runtime, doc)
        return Outcome(None, LOST)
    if state != SUCCEEDED:
        shutil.rmtree(runtime.files.attempt_dir(job_id, attempt), ignore_errors=True)
    runtime.files.remove_other_attempts(job_id, attempt)
    log.info("job %s: %s (attempt %d)%s", job_id, state, attempt, f" [{error['code']}]" if error else "")
    _notify(runtime, final)
    return Outcome(state, RAN)


def _store_outcome(runtime: JobsRuntime, doc: dict, state: str, **kw: Any) -> dict | None:
    """``store.finish``, waiting out a short store outage: the work is done, keep it if we can."""
    deadline = time.monotonic() + runtime.settings.stale_after
    delay = 0.5
    while True:
        try:
            return runtime.store.finish(doc["id"], doc["attempt"], state, **kw)
        except StoreUnavailable:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("job %s: the store does not answer; retrying the outcome in %.0fs", doc["id"], delay)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


def _drop_attempt(runtime: JobsRuntime, doc: dict) -> None:
    """A lost attempt's outputs go; a job deleted while it ran leaves no files behind."""
    shutil.rmtree(runtime.files.attempt_dir(doc["id"], doc["attempt"]), ignore_errors=True)
    if runtime.store.get(doc["id"]) is None:
        runtime.files.remove(doc["id"])


def _notify(runtime: JobsRuntime, doc: dict) -> None:
    """Tell the host that a job ended: a :class:`JobFinished` event, then the pluggy hook."""
    job = job_json(doc)
    if runtime.registry is not None:
        try:
            runtime.registry.notify(JobFinished(job, runtime.registry))
        except Exception:
            log.exception("job %s: a JobFinished subscriber failed", doc["id"])
    if runtime.plugin_manager is not None:
        try:
            runtime.plugin_manager.hook.jobs_job_finished(job=job, registry=runtime.registry)
        except Exception:
            log.exception("job %s: a jobs_job_finished hook failed", doc["id"])


__all__ = ["run_job", "Outcome", "claim", "build_context", "classify", "Attempt", "RAN", "ENDED_AT_CLAIM",
           "NOTHING_TO_DO", "OWNED_ELSEWHERE", "LOST", "RETRY_LATER"]
