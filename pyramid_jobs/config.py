"""``config.include('pyramid_jobs')``: the whole wiring, read once from the ``jobs.*`` settings."""
from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyramid.config import Configurator
from pyramid.events import ApplicationCreated

from .celery_app import configure_celery, is_command_process, make_celery, take_pending_app
from .errors import ConfigurationError
from .limits import check_overrides
from .plugins import ProcessorSet, make_plugin_manager
from .processor import Processor
from .renderers import StrictJSON
from .runner import JobEnv
from .settings import JobsSettings, parse_settings
from .store import open_store

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
    registry = config.registry
    raw = config.get_settings()
    settings: JobsSettings = parse_settings(raw, here=raw.get("here"))
    registry.jobs_settings = settings

    config.add_renderer("pyramid_jobs.json", StrictJSON)

    pm = make_plugin_manager()
    processors = ProcessorSet.from_plugin_manager(pm)
    store = open_store(settings.store_url)
    env = JobEnv(settings=settings, store=store, processors=processors, plugin_manager=pm, registry=registry)
    registry.jobs_env = env

    _make_broker_dir(settings.broker_url)
    command_process = is_command_process()
    celery = take_pending_app() or make_celery()
    configure_celery(celery, settings)
    celery.pyramid_registry = registry
    registry.jobs_celery = celery

    config.add_directive("add_jobs_processor", add_jobs_processor)
    # after the host's add_jobs_processor calls (order 1): a limit no processor declares is a typo
    config.action(("pyramid_jobs", "check-limits"), lambda: check_overrides(settings.limits, env.processors), order=2)
    config.add_request_method(lambda r: r.registry.jobs_env, "jobs_env", reify=True)

    prefix = settings.route_prefix
    for name, pattern in ROUTES:
        config.add_route(f"pyramid_jobs.{name}", (prefix + pattern) or "/")
    config.include(".views.errors")
    config.include(".views.api")
    config.include(".views.pages")
    config.include(".metrics")

    if settings.embedded_worker and not command_process and not _no_embedded_worker:
        config.add_subscriber(_start_embedded_worker, ApplicationCreated)


_no_embedded_worker: list[bool] = []


@contextmanager
def without_embedded_worker() -> Iterator[None]:
    """Bootstrap an application for a command (pjobs, pshell) without starting its embedded worker."""
    _no_embedded_worker.append(True)
    try:
        yield
    finally:
        _no_embedded_worker.pop()


def _make_broker_dir(url: str) -> None:
    """kombu's SQLite transport cannot create the folder of its database file."""
    if url.startswith("sqla+sqlite:///"):
        path = url[len("sqla+sqlite:///"):]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def add_jobs_processor(config: Configurator, processor: Processor, plugin: str | None = None) -> None:
    """Directive: register a processor from the host's code, beside the entry-point plugins."""

    def register() -> None:
        config.registry.jobs_env.processors.add(processor, plugin or config.package_name or "host")

    config.action(("pyramid_jobs.processor", processor.name), register, order=1)


def _start_embedded_worker(event: ApplicationCreated) -> None:
    from .worker import EmbeddedWorker

    registry = event.app.registry
    worker = EmbeddedWorker(registry.jobs_celery, registry.jobs_env)
    registry.jobs_embedded_worker = worker
    worker.start()
    atexit.register(worker.stop)
    log.info("pyramid_jobs: embedded worker started (broker %s)", registry.jobs_settings.broker_url)


def make_app(global_config: dict, **settings: Any) -> Any:
    """The jobs routes alone as a WSGI application (for mounting in another framework)."""
    merged = {**global_config, **settings}
    if "here" not in merged and "here" in global_config:
        merged["here"] = global_config["here"]
    with Configurator(settings=merged) as config:
        config.include("pyramid_jobs")
    return config.make_wsgi_app()


__all__ = ["includeme", "make_app", "add_jobs_processor", "ConfigurationError"]
