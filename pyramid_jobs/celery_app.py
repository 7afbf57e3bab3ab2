"""``celery -A pyramid_jobs.celery_app worker --ini production.ini``: the historical name of the
command line's app, kept working; :mod:`pyramid_jobs.celery_cli` is the module that holds it."""
from __future__ import annotations

from .celery_cli import app

__all__ = ["app"]
