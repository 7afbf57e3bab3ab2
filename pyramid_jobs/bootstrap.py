"""How a command (``celery worker``, ``celery beat``, ``pjobs``) loads the application from its ini.

A web process builds its own Celery app and, with ``jobs.embedded_worker``, starts a worker
inside itself. A command process must do neither: it brings its own Celery app (the one the
``celery`` command line was started with) and is itself the worker. :func:`bootstrap_command`
says so to the deferred configuration of ``config.include('pyramid_jobs')`` for the duration of
the bootstrap, which is when that configuration runs.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    """A command process being bootstrapped."""

    #: The command's Celery app, configured from the ini and used by the runtime (None: build one).
    celery: Any = None


_command: ContextVar[Command | None] = ContextVar("pyramid_jobs_command", default=None)


def current_command() -> Command | None:
    """The command being bootstrapped, or None in a web process."""
    return _command.get()


@contextmanager
def as_command(celery: Any = None) -> Iterator[None]:
    """Within this block, applications configured are a command's: no embedded worker."""
    token = _command.set(Command(celery))
    try:
        yield
    finally:
        _command.reset(token)


def bootstrap_command(config_uri: str, celery: Any = None) -> dict:
    """``pyramid.paster.bootstrap`` for a command process (see :func:`as_command`)."""
    from pyramid.paster import bootstrap

    with as_command(celery):
        return bootstrap(config_uri)
