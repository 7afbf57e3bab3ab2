"""The periodic safety net: re-enqueue stranded jobs, remove expired ones and orphaned files.

The broker is not trusted to keep every job (kombu's SQLite transport drops messages and never
redelivers a killed worker's; a Redis without persistence forgets everything on restart), so the
store, which is the truth, is swept: queued jobs whose message may be lost are enqueued again,
running jobs whose worker is dead go back to the queue, ended jobs past ``jobs.result_ttl`` are
deleted with their files, and files with no record (a store that lost its data, a web process
killed mid-upload) are removed after a grace period. Duplicated messages are harmless: a claim
takes a job once. Each sweep leaves its time in the store, for ``/jobs/health``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .liveness import attempt_is_dead
from .runtime import JobsRuntime

log = logging.getLogger("pyramid_jobs.sweep")

#: Names of the marks the store keeps: the last sweep, and the last time a worker said it was alive.
SWEPT = "sweep"
WORKER_SEEN = "worker"
#: Seconds between two "a worker is alive" marks.
WORKER_BEAT = 10.0
#: Files older than this with no job record are orphans (a job is recorded right after its upload).
ORPHAN_GRACE = 3600.0


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


def sweep(runtime: JobsRuntime, *, now: float | None = None, queued_grace: float | None = None,
          orphan_grace: float = ORPHAN_GRACE) -> SweepReport:
    settings, store = runtime.settings, runtime.store
    now = time.time() if now is None else now
    grace = settings.queued_grace if queued_grace is None else queued_grace
    report = SweepReport()
    for doc in store.stranded(queued_grace=grace, dead=lambda d: attempt_is_dead(d, settings.stale_after, now),
                              now=now):
        if store.requeue(doc["id"], now=now) is not None:
            try:
                runtime.enqueue(doc["id"], doc.get("processor"))
            except Exception:
                log.warning("job %s: could not enqueue it again; the next sweep will retry", doc["id"], exc_info=True)
                continue
            log.info("job %s: enqueued again (was %s, stranded)", doc["id"], doc["state"])
            report.requeued.append(doc["id"])
    for job_id in store.expired(settings.result_ttl, now=now):
        store.delete(job_id)
        runtime.files.remove(job_id)
        log.info("job %s: removed after jobs.result_ttl", job_id)
        report.expired.append(job_id)
    report.orphans = remove_orphans(runtime, now - orphan_grace)
    store.touch(SWEPT, now=now)
    return report


def remove_orphans(runtime: JobsRuntime, older_than: float) -> list[str]:
    """Job folders unchanged since ``older_than`` whose job has no record: left by a store that
    lost its data, or by a web process killed mid-upload (its ``upload.part``)."""
    removed = []
    for job_dir in runtime.files.job_dirs():
        if _last_change(job_dir) < older_than and runtime.store.get(job_dir.name) is None:
            runtime.files.remove(job_dir.name)
            log.info("job %s: its files had no record; removed", job_dir.name)
            removed.append(job_dir.name)
    return removed


def _last_change(job_dir: Path) -> float:
    """The newest change in the folder (an upload being written changes its file, not the folder)."""
    times = []
    for path in (job_dir, *job_dir.iterdir()):
        try:
            times.append(path.stat().st_mtime)
        except FileNotFoundError:
            pass
    return max(times, default=0.0)


def housekeeping(runtime: JobsRuntime, stopping: threading.Event, *, first_queued_grace: float | None = None) -> None:
    """The loop a worker runs beside its jobs (in the worker's main process, or the embedded
    worker's thread), where no backlog of jobs can delay it: every :data:`WORKER_BEAT` seconds it
    marks a worker as alive, and once per ``jobs.sweep_interval`` one worker among all sweeps."""
    grace = first_queued_grace
    while not stopping.is_set():
        try:
            runtime.store.touch(WORKER_SEEN)
            if runtime.store.take_turn(SWEPT, runtime.settings.sweep_interval):
                report = sweep(runtime, queued_grace=grace)
                grace = None
                if report.requeued:
                    log.info("sweep: enqueued %d stranded job(s) again", len(report.requeued))
        except Exception:  # the store is away: the next round tries again
            log.warning("worker housekeeping failed; will retry", exc_info=True)
        stopping.wait(min(WORKER_BEAT, runtime.settings.sweep_interval))
