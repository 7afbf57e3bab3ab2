"""pyramid_jobs under /jobs in a Flask application, mounted with werkzeug's DispatcherMiddleware.

    from examples.flask_app import create_app
    app = create_app({"jobs.store_url": "sqlite:///var/jobs.sqlite", ...})
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

import pyramid_jobs


def create_app(jobs_settings: dict[str, Any]) -> Flask:
    app = Flask(__name__)

    @app.route("/")
    def home() -> str:
        return "A Flask app; upload files at /jobs/ui"

    # the jobs app lives at the root of its mount point: Flask owns everything else
    jobs = pyramid_jobs.make_app({}, **{**jobs_settings, "jobs.route_prefix": "/"})
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/jobs": jobs})
    app.jobs = jobs
    return app
