"""The Celery application, configured from the Pyramid ini file.

    celery -A pyramid_jobs.celery_app worker --ini production.ini
    celery -A pyramid_jobs.celery_app beat --ini production.ini

``--ini`` bootstraps the Pyramid application (``pyramid.paster.bootstrap``), whose
``config.include('pyramid_jobs')`` configures *this* app from the ``jobs.*`` settings, so tasks
run inside the host's environment (registry, settings, hooks). A worker whose ini cannot be
loaded stops with a non-zero status instead of starting against a default broker.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
from celery import Celery, signals
from celery.beat import PersistentScheduler

from .settings import JobsSettings

log = logging.getLogger("pyramid_jobs.celery")

RUN_JOB = "pyramid_jobs.run_job"
SWEEP = "pyramid_jobs.sweep"
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
        # a leaking or bloated process is replaced instead of taking the machine down (KiB)
        "worker_max_memory_per_child": 2_000_000,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "beat_schedule": {"pyramid_jobs-sweep": {"task": SWEEP, "schedule": settings.sweep_interval}},
        # beat's schedule file lives with the service's data, not in whatever directory beat started in
        "beat_schedule_filename": os.path.join(settings.data_dir, "celerybeat-schedule"),
    }
    if settings.broker_url.startswith(("redis", "rediss")):
        # Redis hands an unacknowledged message to another worker after this long; it must
        # exceed the hard time limit (checked at start-up) or a running job would run twice
        conf["broker_transport_options"] = {"visibility_timeout": settings.visibility_timeout}
    conf.update(settings.celery)
    celery.conf.update(conf)


def _register_tasks(celery: Celery) -> None:
    @celery.task(name=RUN_JOB, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True, max_retries=None,
                 throws=(JobFailed,))
    def run_job(self: Any, job_id: str) -> str | None:
        env = job_env(self.app)
        from pyramid.threadlocal import manager

        from .runner import attempt_is_dead
        from .runner import run_job as run

        # the host's registry is "current" while the job runs, as it is during a request
        manager.push({"registry": env.registry, "request": None})
        try:
            state = run(job_id, env)
        finally:
            manager.pop()
        if state is None:
            doc = env.store.get(job_id)
            if doc is not None and doc["state"] == "running" and doc.get("worker") and not attempt_is_dead(
                doc, env.settings.stale_after
            ):
                # another attempt looks alive: look again once it would be stale, in case it is not
                raise self.retry(countdown=env.settings.stale_after + 1)
        if state == "failed":
            error = (env.store.get(job_id) or {}).get("error") or {}
            raise JobFailed(f"{error.get('code', 'failed')}: {error.get('message', '')}")
        return state

    @celery.task(name=SWEEP, bind=True, shared=False)
    def sweep_task(self: Any) -> dict:
        from .sweep import sweep

        report = sweep(job_env(self.app), enqueue_function(self.app))
        return {"requeued": report.requeued, "expired": report.expired}


def job_env(celery: Celery) -> Any:
    registry = getattr(celery, "pyramid_registry", None)
    if registry is None:
        raise RuntimeError("pyramid_jobs: this Celery app was not configured from an ini file (pass --ini)")
    return registry.jobs_env


def enqueue_function(celery: Celery) -> Any:
    def enqueue(job_id: str) -> None:
        celery.send_task(RUN_JOB, args=[job_id], task_id=job_id, queue=celery.conf.task_default_queue)

    return enqueue


# -- the `celery -A pyramid_jobs.celery_app` command -----------------------------------------

app = make_celery()
app.user_options["preload"].add(
    click.Option(["--ini"], default=None, help="The Pyramid ini file (optionally FILE#section) to bootstrap.")
)

_pending: list[Celery] = []


def take_pending_app() -> Celery | None:
    """The command's app, while its ini is being bootstrapped (for ``includeme`` to configure)."""
    return _pending.pop() if _pending else None


def is_command_process() -> bool:
    return app.pyramid_registry is not None or bool(_pending)


@signals.user_preload_options.connect
def _bootstrap_from_ini(sender: Any = None, app: Celery | None = None, options: dict | None = None, **kw: Any) -> None:
    target = app if app is not None else sender
    if target is not globals()["app"]:
        return
    ini = (options or {}).get("ini")
    if not ini:
        click.echo("pyramid_jobs: pass --ini FILE (the Pyramid ini file to bootstrap the application from).",
                   err=True)
        sys.exit(2)
    from pyramid.paster import bootstrap, setup_logging

    try:
        setup_logging(ini.split("#")[0])
    except Exception:  # an ini without logging sections is fine
        pass
    _pending.append(target)
    try:
        env = bootstrap(ini)
    except Exception as exc:
        click.echo(f"pyramid_jobs: cannot load the application from {ini}: {exc}", err=True)
        sys.exit(1)
    finally:
        _pending.clear()
    if target.pyramid_registry is None:
        click.echo(f"pyramid_jobs: the application in {ini} does not include pyramid_jobs.", err=True)
        sys.exit(1)
    target.pyramid_env = env


@signals.celeryd_init.connect
@signals.beat_init.connect
def _refuse_unconfigured(sender: Any = None, **kw: Any) -> None:
    """A worker or beat without ``--ini`` would run against Celery's default broker: refuse."""
    if app.pyramid_registry is None and not _pending and kw.get("instance", sender) is not None:
        current = getattr(kw.get("instance"), "app", None) or getattr(sender, "app", None)
        if current is None or current is app:
            click.echo("pyramid_jobs: pass --ini FILE to bootstrap the application.", err=True)
            sys.exit(2)
