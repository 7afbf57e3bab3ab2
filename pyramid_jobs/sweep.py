"""The periodic safety net: re-enqueue stranded jobs, remove expired ones.

The broker is not trusted to keep every job (kombu's SQLite transport drops messages and never
redelivers a killed worker's; a Redis without persistence forgets everything on restart), so the
store, which is the truth, is swept: queued jobs whose message may be lost are enqueued again,
running jobs whose worker is dead go back to the queue, and ended jobs past ``jobs.result_ttl``
are deleted with their files. Duplicated messages are harmless: a claim takes a job once.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .runner import JobEnv, attempt_is_dead

log = logging.getLogger("pyramid_jobs.sweep")


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def sweep(env: JobEnv, enqueue: Callable[[str], None], *, now: float | None = None,
          queued_grace: float | None = None) -> SweepReport:
    settings, store = env.settings, env.store
    now = time.time() if now is None else now
    grace = settings.queued_grace if queued_grace is None else queued_grace
    report = SweepReport()
    for doc in store.stranded(queued_grace=grace, stale_after=settings.stale_after,
                              dead=lambda d: attempt_is_dead(d, settings.stale_after, now), now=now):
        if store.requeue(doc["id"], now=now) is not None:
            try:
                enqueue(doc["id"])
            except Exception:
                log.warning("job %s: could not enqueue it again; the next sweep will retry", doc["id"], exc_info=True)
                continue
            log.info("job %s: enqueued again (was %s, stranded)", doc["id"], doc["state"])
            report.requeued.append(doc["id"])
    for job_id in store.expired(settings.result_ttl, now=now):
        store.delete(job_id)
        env.files.remove(job_id)
        log.info("job %s: removed after jobs.result_ttl", job_id)
        report.expired.append(job_id)
    return report
