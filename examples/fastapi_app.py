"""pyramid_jobs under /jobs in a FastAPI application, mounted as WSGI with a2wsgi."""
from __future__ import annotations

from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI

import pyramid_jobs


def create_app(jobs_settings: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def home() -> dict:
        return {"hello": "FastAPI; upload files at /jobs/ui"}

    jobs = pyramid_jobs.make_app({}, **{**jobs_settings, "jobs.route_prefix": "/"})
    app.mount("/jobs", WSGIMiddleware(jobs))
    app.state.jobs = jobs
    return app
