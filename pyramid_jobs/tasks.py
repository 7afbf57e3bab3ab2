"""The Celery side of the engine: the app's configuration and its two tasks.

Web processes and workers both use this module; the ``celery`` command line lives in
:mod:`pyramid_jobs.celery_cli`, which web processes never import.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler

from .runtime import RUN_JOB, SWEEP, JobsRuntime, get_runtime, sweep_queue_of
from .settings import JobsSettings
from .store import FAILED

log = logging.getLogger("pyramid_jobs.celery")

QUEUE = "pyramid_jobs"
DEFAULT_BEAT_SCHEDULE = "celerybeat-schedule"


class JobFailed(Exception):
    """Raised by the task when its job failed, so Celery and Flower record a FAILURE (the job record
    holds the code and message; this exception is expected and logged without a traceback)."""


class DataDirScheduler(PersistentScheduler):
    """beat's own scheduler, with its schedule file under ``jobs.data_dir`` unless ``-s`` names one.

    ``celery beat`` resolves its ``-s`` default before ``--ini`` is read, so the file name is
    settled here, when the scheduler is built and the ini's settings are known."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        app = kw.get("app") or args[0]
        if kw.get("schedule_filename") in (None, DEFAULT_BEAT_SCHEDULE):
            kw["schedule_filename"] = app.conf.beat_schedule_filename
            os.makedirs(os.path.dirname(os.path.abspath(kw["schedule_filename"])), exist_ok=True)
        super().__init__(*args, **kw)


def make_celery(name: str = "pyramid_jobs") -> Celery:
    """An unconfigured app with the add-on's tasks (:func:`configure_celery` gives it settings)."""
    celery = Celery(name, set_as_current=False)
    celery.conf.beat_scheduler = f"{__name__}:DataDirScheduler"
    celery.pyramid_registry = None
    _register_tasks(celery)
    return celery


def configure_celery(celery: Celery, settings: JobsSettings) -> None:
    """Every reliability setting in one place, each with its reason."""
    conf: dict[str, Any] = {
        "broker_url": settings.broker_url,
        # the job store is the single source of truth: no Celery result backend
        "task_ignore_result": True,
        "result_backend": None,
        # a job is acknowledged only once it ran: a killed worker's job is delivered again ...
        "task_acks_late": True,
        # ... including when the pool process was killed (otherwise acks_late acks it anyway)
        "task_reject_on_worker_lost": True,
        # long jobs: a worker holds one message beyond the ones it is running
        "worker_prefetch_multiplier": 1,
        # soft limit raises inside the job (-> failed, time_limit); the hard one kills a stuck process
        "task_soft_time_limit": settings.time_limit,
        "task_time_limit": settings.hard_time_limit,
        # a process that once held much memory (its peak RSS) is replaced after its job (KiB)
        "worker_max_memory_per_child": max(settings.memory_limit // 2 // 1024, 200_000) or 2_000_000,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        # beat's schedule file lives with the service's data, not in whatever directory beat started in
        "beat_schedule_filename": os.path.join(settings.data_dir, DEFAULT_BEAT_SCHEDULE),
    }
    if settings.broker_url.startswith(("redis", "rediss")):
        # Redis hands an unacknowledged message to another worker after this long; it must
        # exceed the hard time limit (checked at start-up) or a running job would run twice
        conf["broker_transport_options"] = {"visibility_timeout": settings.visibility_timeout}
    conf.update(settings.celery)
    celery.conf.update(conf)
    sweep_queue = sweep_queue_of(celery.conf.task_default_queue)
    # the sweep has a queue of its own: a backlog of jobs never delays the recovery of lost ones
    celery.conf.beat_schedule = {"pyramid_jobs-sweep": {"task": SWEEP, "schedule": settings.sweep_interval,
                                                        "options": {"queue": sweep_queue,
                                                                    "expires": settings.sweep_interval}}}
    celery.conf.task_routes = {SWEEP: {"queue": sweep_queue}}
    if "task_queues" not in settings.celery:
        # workers consume both queues unless told otherwise (-Q)
        from kombu import Queue

        celery.conf.task_queues = (Queue(celery.conf.task_default_queue), Queue(sweep_queue))


def _register_tasks(celery: Celery) -> None:
    @celery.task(name=RUN_JOB, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True, max_retries=None,
                 throws=(JobFailed,))
    def run_job_task(self: Any, job_id: str) -> str | None:
        from pyramid.threadlocal import manager

        from .isolation import run_in_child
        from .runner import OWNED_ELSEWHERE, run_job
        from .store import StoreUnavailable

        runtime = runtime_of(self.app)
        run = run_in_child if runtime.isolated else run_job
        # the host's registry is "current" while the job runs, as it is during a request
        manager.push({"registry": runtime.registry, "request": None})
        try:
            outcome = run(job_id, runtime)
        except StoreUnavailable:
            log.warning("job %s: the store does not answer; trying again in 5s", job_id)
            raise self.retry(countdown=5) from None
        finally:
            manager.pop()
        if outcome.reason == OWNED_ELSEWHERE:
            # another attempt looks alive: look again once it would be stale, in case it is not
            raise self.retry(countdown=outcome.retry_after)
        if outcome.replace_process:
            # a job that ran out of memory may leave its process fragmented: the pool starts a fresh one
            raise SystemExit(f"job {job_id} ran out of memory; this pool process is replaced")
        if outcome.state == FAILED:
            error = (runtime.store.get(job_id) or {}).get("error") or {}
            raise JobFailed(f"{error.get('code', 'failed')}: {error.get('message', '')}")
        return outcome.state

    @celery.task(name=SWEEP, bind=True, shared=False)
    def sweep_task(self: Any) -> dict:
        from .sweep import sweep

        report = sweep(runtime_of(self.app))
        return {"requeued": report.requeued, "expired": report.expired, "orphans": report.orphans}


def runtime_of(celery: Celery) -> JobsRuntime:
    registry = getattr(celery, "pyramid_registry", None)
    if registry is None:
        raise RuntimeError("pyramid_jobs: this Celery app was not configured from an ini file (pass --ini)")
    return get_runtime(registry)


__all__ = ["make_celery", "configure_celery", "runtime_of", "QUEUE", "RUN_JOB", "SWEEP"]
