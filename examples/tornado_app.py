"""pyramid_jobs under /jobs in a Tornado application (the other framework of the original recipe).

Tornado runs WSGI applications through ``tornado.wsgi.WSGIContainer``; given an executor, each
request runs on a worker thread, so a large upload or a slow store never blocks Tornado's event
loop. The jobs app keeps its own prefix (``/jobs``), so the links it writes are right as they are.

    from examples.tornado_app import make_app
    app = make_app({"jobs.store_url": "sqlite:///var/jobs.sqlite", ...})
    app.listen(8888); tornado.ioloop.IOLoop.current().start()
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.web
import tornado.wsgi

import pyramid_jobs


class HomeHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("A Tornado app; upload files at /jobs/ui")


def make_app(jobs_settings: dict[str, Any], *, threads: int = 8) -> tornado.web.Application:
    jobs = pyramid_jobs.make_app({}, **{**jobs_settings, "jobs.route_prefix": "/jobs"})
    container = tornado.wsgi.WSGIContainer(jobs, executor=ThreadPoolExecutor(threads))
    app = tornado.web.Application([
        (r"/", HomeHandler),
        (r"/jobs(/.*)?", tornado.web.FallbackHandler, {"fallback": container}),
    ])
    app.jobs = jobs
    return app
