"""pyramid_jobs: turn a Pyramid application into a file-processing service.

Public names: :class:`Processor`, :func:`hookimpl`, :class:`ProcessingError`, :func:`includeme`.
Importing this package imports neither Pyramid's configurator nor Celery, so processors stay
light; :func:`includeme` pulls in the rest when a host application includes the add-on.
"""
from __future__ import annotations

from typing import Any

from .errors import JobCancelled, JobTimeLimit, ProcessingError
from .hookspecs import hookimpl
from .limits import Limits
from .options import Option
from .processor import Processor

__all__ = [
    "Processor",
    "hookimpl",
    "ProcessingError",
    "JobCancelled",
    "JobTimeLimit",
    "Limits",
    "Option",
    "includeme",
    "make_app",
]


def includeme(config: Any) -> None:
    """``config.include('pyramid_jobs')``: routes, renderer, Celery app, processors, from ``jobs.*``."""
    from .config import includeme as _includeme

    _includeme(config)


def make_app(global_config: dict | None = None, **settings: Any) -> Any:
    """A WSGI application serving only the jobs routes (also the ini's ``egg:pyramid_jobs`` app)."""
    from .config import make_app as _make_app

    return _make_app(global_config or {}, **settings)
