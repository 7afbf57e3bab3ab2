"""The ``celery`` command line: ``celery -A pyramid_jobs.celery_cli worker --ini production.ini``.

``--ini`` bootstraps the Pyramid application as a command (:mod:`pyramid_jobs.bootstrap`): its
``config.include('pyramid_jobs')`` configures *this* app from the ``jobs.*`` settings and starts
no embedded worker, so tasks run inside the host's environment (registry, settings, hooks). A
worker or beat whose ini cannot be loaded stops with a non-zero status instead of starting
against a default broker. Web processes never import this module.
"""
from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import click
from celery import Celery, signals

from .bootstrap import bootstrap_command
from .isolation import set_memory_ceiling
from .sweep import housekeeping
from .tasks import make_celery, runtime_of

log = logging.getLogger("pyramid_jobs.celery")

app = make_celery()
app.user_options["preload"].add(
    click.Option(["--ini"], default=None, help="The Pyramid ini file (optionally FILE#section) to bootstrap.")
)


@signals.user_preload_options.connect
def _bootstrap_from_ini(sender: Any = None, app: Celery | None = None, options: dict | None = None, **kw: Any) -> None:
    if (app if app is not None else sender) is not globals()["app"]:
        return
    ini = (options or {}).get("ini")
    if not ini:
        _refuse("pass --ini FILE (the Pyramid ini file to bootstrap the application from).", 2)
    from pyramid.paster import setup_logging

    try:
        setup_logging(ini.split("#")[0])
    except Exception:  # an ini without logging sections is fine
        pass
    try:
        bootstrap_command(ini, celery=globals()["app"])
    except Exception as exc:
        _refuse(f"cannot load the application from {ini}: {exc}", 1)
    if globals()["app"].pyramid_registry is None:
        _refuse(f"the application in {ini} does not include pyramid_jobs.", 1)


@signals.celeryd_init.connect
@signals.beat_init.connect
def _refuse_unconfigured(sender: Any = None, **kw: Any) -> None:
    """A worker or beat without ``--ini`` would run against Celery's default broker: refuse."""
    current = getattr(kw.get("instance"), "app", None) or getattr(sender, "app", None)
    if app.pyramid_registry is None and (current is None or current is app):
        _refuse("pass --ini FILE to bootstrap the application.", 2)


@signals.worker_init.connect
def _warm_processors(sender: Any = None, **kw: Any) -> None:
    """The main process loads the processors' libraries before it forks its pool, so no pool
    process pays for them at its first job (and they share those pages)."""
    if app.pyramid_registry is not None:
        runtime_of(app).processors.warm()


@signals.worker_process_init.connect
def _memory_ceiling(**kw: Any) -> None:
    """Each pool process gets ``jobs.memory_limit`` of address space: past it, an allocation
    raises ``MemoryError`` inside the job (which fails ``too_large``) instead of the machine
    swapping or the kernel killing a process at random."""
    if app.pyramid_registry is not None:
        set_memory_ceiling(runtime_of(app).settings.memory_limit)


@signals.worker_ready.connect
def _start_housekeeping(sender: Any = None, **kw: Any) -> None:
    """The worker's main process marks it alive and takes its turn at the sweep, in a thread
    that no backlog of jobs can delay (beat's sweep messages are only a second path)."""
    if app.pyramid_registry is not None:
        threading.Thread(target=housekeeping, args=(runtime_of(app), threading.Event()),
                         name="pyramid_jobs-housekeeping", daemon=True).start()


def _refuse(message: str, status: int) -> None:
    click.echo(f"pyramid_jobs: {message}", err=True)
    sys.exit(status)
