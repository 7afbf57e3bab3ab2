"""``config.include('pyramid_jobs')``: the whole wiring, read once from the ``jobs.*`` settings."""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sqlite3
from typing import Any

from pyramid.config import PHASE1_CONFIG, Configurator
from pyramid.events import ApplicationCreated

from .bootstrap import current_command
from .errors import ConfigurationError
from .limits import check_overrides
from .plugins import ProcessorSet, make_plugin_manager
from .processor import Processor
from .renderers import StrictJSON
from .runtime import IJobsRuntime, JobsRuntime, get_runtime
from .settings import parse_settings
from .store import open_store
from .tasks import configure_celery, make_celery

log = logging.getLogger("pyramid_jobs")

ROUTES = (
    ("collection", ""),
    ("processors", "/processors"),
    ("health", "/health"),
    ("openapi", "/openapi.json"),
    ("job", "/{id:[0-9a-f]{32}}"),
    ("result", "/{id:[0-9a-f]{32}}/result"),
    ("artifact", "/{id:[0-9a-f]{32}}/artifacts/{name}"),
    ("cancel", "/{id:[0-9a-f]{32}}/cancel"),
)


def includeme(config: Configurator) -> None:
    """Register the add-on: the ``pyramid_jobs.json`` renderer, the ``add_jobs_processor``
    directive, and one deferred action that, once the host is done changing settings, reads the
    ``jobs.*`` settings and builds the :class:`~pyramid_jobs.runtime.JobsRuntime` utility (store,
    processors from the ``pyramid_jobs`` entry points, Celery app), the routes and views under
    ``jobs.route_prefix``, the metrics route, and (``jobs.embedded_worker``, in a web process)
    the embedded worker, started once the application is created."""
    config.add_renderer("pyramid_jobs.json", StrictJSON)
    config.add_directive("add_jobs_processor", add_jobs_processor)
    config.action(("pyramid_jobs.runtime",), lambda: _build(config), order=PHASE1_CONFIG)


def _build(config: Configurator) -> None:
    registry = config.registry
    raw = config.get_settings()
    settings = parse_settings(raw, here=raw.get("here"))
    registry.jobs_settings = settings
    command = current_command()
    embedded = settings.embedded_worker and command is None
    pm = make_plugin_manager()
    celery = command.celery if command is not None and command.celery is not None else make_celery()
    _make_broker_dir(settings.broker_url)
    configure_celery(celery, settings)
    celery.pyramid_registry = registry
    runtime = JobsRuntime(settings=settings, store=open_store(settings.store_url),
                          processors=ProcessorSet.from_plugin_manager(pm), plugin_manager=pm, registry=registry,
                          celery=celery, isolated=embedded)
    registry.registerUtility(runtime, IJobsRuntime)
    if not runtime.store.persistent():
        log.warning("pyramid_jobs: the job store's Redis (%s) has neither AOF nor RDB persistence: a restart of "
                    "it loses every job. Turn on appendonly (see the README's production section).",
                    settings.store_url.split("@")[-1])
    # after the host's add_jobs_processor calls: a limit no processor declares is a typo
    config.action(("pyramid_jobs", "check-limits"), lambda: check_overrides(settings.limits, runtime.processors),
                  order=PHASE1_CONFIG + 2)

    prefix = settings.route_prefix
    for name, pattern in ROUTES:
        config.add_route(f"pyramid_jobs.{name}", (prefix + pattern) or "/")
    config.include(".views.errors")
    config.include(".views.api")
    config.include(".views.pages")
    config.include(".metrics")
    if embedded:
        config.add_subscriber(_start_embedded_worker, ApplicationCreated)


def _make_broker_dir(url: str) -> None:
    """kombu's SQLite transport cannot create the folder of its database file. Its database is
    put in WAL mode (a setting the file keeps): a publish then costs one sync instead of several
    (about 40 ms less per submit) and never waits for the worker's polls."""
    if url.startswith("sqla+sqlite:///"):
        path = url[len("sqla+sqlite:///"):]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")


def add_jobs_processor(config: Configurator, processor: Processor | str, plugin: str | None = None) -> None:
    """Directive: register a processor (an instance, or the dotted name of one or of its class)
    from the host's code, beside the entry-point plugins."""
    processor = config.maybe_dotted(processor)
    if isinstance(processor, type) and issubclass(processor, Processor):
        processor = processor()
    if not isinstance(processor, Processor) or not processor.name:
        raise ConfigurationError("add_jobs_processor", processor, "a named pyramid_jobs.Processor or its dotted name")
    source = plugin or config.package_name or "host"

    def register() -> None:
        get_runtime(config.registry).processors.add(processor, source)

    intr = config.introspectable("pyramid_jobs processors", processor.name, f"processor {processor.name}",
                                 "pyramid_jobs processor")
    intr["processor"] = processor
    intr["plugin"] = source
    intr["extensions"] = processor.extensions
    # after the runtime is built (PHASE1_CONFIG), before the views need the processors
    config.action(("pyramid_jobs.processor", processor.name), register, introspectables=(intr,),
                  order=PHASE1_CONFIG + 1)


def _start_embedded_worker(event: ApplicationCreated) -> None:
    from .worker import EmbeddedWorker

    runtime = get_runtime(event.app.registry)
    worker = EmbeddedWorker(runtime)
    runtime.embedded_worker = worker
    worker.start()
    atexit.register(worker.stop)
    log.info("pyramid_jobs: embedded worker started (broker %s)", runtime.settings.broker_url)


def make_app(global_config: dict, **settings: Any) -> Any:
    """The jobs routes alone as a WSGI application (for mounting in another framework)."""
    merged = {**global_config, **settings}
    if "here" not in merged and "here" in global_config:
        merged["here"] = global_config["here"]
    with Configurator(settings=merged) as config:
        config.include("pyramid_jobs")
    return config.make_wsgi_app()


__all__ = ["includeme", "make_app", "add_jobs_processor", "ConfigurationError"]
