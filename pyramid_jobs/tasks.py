"""The Celery side of the engine: the app's configuration and its two tasks.

Web processes and workers both use this module; the ``celery`` command line lives in
:mod:`pyramid_jobs.celery_cli`, which web processes never import.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from .runtime import RUN_JOB, SWEEP, JobsRuntime, get_runtime, sweep_queue_of
from .settings import JobsSettings

log = logging.getLogger("pyramid_jobs.celery")

QUEUE = "pyramid_jobs"


def make_celery(name: str = "pyramid_jobs") -> Celery:
    """An unconfigured app with the add-on's tasks (:func:`configure_celery` gives it settings)."""
    celery = Celery(name, set_as_current=False)
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
    @celery.task(name=RUN_JOB, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True, max_retries=None)
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
