"""Django's WSGI application, with pyramid_jobs mounted under /jobs in front of it."""
from __future__ import annotations

import os
from typing import Any

import pyramid_jobs


def mount(outer: Any, prefix: str, inner: Any) -> Any:
    """Send requests under ``prefix`` to ``inner`` (shifting the path into SCRIPT_NAME), the rest to ``outer``."""

    def app(environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == prefix or path.startswith(prefix + "/"):
            environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + prefix,
                       "PATH_INFO": path[len(prefix):]}
            return inner(environ, start_response)
        return outer(environ, start_response)

    return app


def make_application(jobs_settings: dict[str, Any]) -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_project.settings")
    from django.core.wsgi import get_wsgi_application

    jobs = pyramid_jobs.make_app({}, **{**jobs_settings, "jobs.route_prefix": "/"})
    application = mount(get_wsgi_application(), "/jobs", jobs)
    application.jobs = jobs
    return application
