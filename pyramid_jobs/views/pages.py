"""The HTML pages: an upload form with recent jobs, and a job page with live progress and results.

Live updates poll the JSON status route with ``If-None-Match`` (a 304 costs the server almost
nothing) and back off while nothing changes. Server-sent events were weighed and left out: each
open stream would hold one of waitress's few threads for as long as a person watches, which is
exactly what these pages must not do. Without JavaScript the form posts here, the answer is a
303 to the job's page, and that page refreshes itself until the job ends.

Every page is sent with a strict Content-Security-Policy: no inline script or style, nothing from
another host; scripts, styles and the icon are served by the add-on from ``static/``.
"""
from __future__ import annotations

import json
from typing import Any

from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request

from ..csrf import check_form_token, csrf_field
from ..errors import JobsError
from ..jobjson import job_json
from ..store import ENDED, SUCCEEDED
from ..uploads import human_size
from . import api

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _secure(request: Request) -> None:
    headers = request.response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cache-Control"] = "no-store"


def _csrf_token(request: Request) -> str | None:
    """The host's CSRF token, or None when the host has no session or CSRF storage configured."""
    try:
        return get_csrf_token(request)
    except AttributeError:
        return None


def _common(request: Request) -> dict:
    env = api.env_of(request)
    return {
        "prefix": request.route_path("pyramid_jobs.collection"),
        "static": lambda name: request.static_path(f"pyramid_jobs:static/{name}"),
        "csrf_token": _csrf_token(request),
        "max_upload_size": env.settings.max_upload_size,
        "max_upload_human": human_size(env.settings.max_upload_size),
    }


#: The only messages a link may make the upload page show (``?error=<code>``): text the server wrote.
PAGE_ERRORS = {
    "not_found": "There is no such job, or it was removed.",
    "cross_site": "That request came from another site and was refused.",
    "csrf": "The form was out of date; reload the page and send it again.",
}


def index(request: Request) -> dict:
    _secure(request)
    env = api.env_of(request)
    docs, _ = env.store.list(owner=api.visible_owner(request), limit=20)
    url = api.url_builder(request)
    processors = env.processors.describe()
    return {
        **_common(request),
        "processors": processors,
        "extensions": env.processors.extensions(),
        "jobs": [job_json(d, url) for d in docs],
        "error": PAGE_ERRORS.get(request.GET.get("error", "")),
    }


def upload(request: Request) -> Any:
    """The no-JavaScript path: create the job as the API does, then 303 to its page."""
    try:
        docs = api.create_jobs(request, single=False,
                               check=lambda form: check_form_token(request, form.text(csrf_field(request))))
    except JobsError as exc:
        request.response.status = exc.status
        _secure(request)
        data = index(request)
        data["error"] = exc.message
        request.override_renderer = "pyramid_jobs:templates/index.jinja2"
        return data
    if len(docs) == 1:
        return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui_job", id=docs[0]["id"]))
    return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui"))  # several: the list shows them all


def job_page(request: Request) -> dict:
    _secure(request)
    try:
        doc = api.load_job(request)
    except JobsError:
        raise HTTPNotFound() from None
    env = api.env_of(request)
    job = job_json(doc, api.url_builder(request))
    result = None
    if doc["state"] == SUCCEEDED:
        text = env.store.result(doc["id"])
        result = json.loads(text) if text else None
    return {
        **_common(request),
        "job": job,
        "result": result,
        "ended": doc["state"] in ENDED,
        "result_template": f"pyramid_jobs:templates/results/{_result_template(doc['processor'])}.jinja2",
    }


KNOWN_RESULTS = {"txt", "pdf", "docx", "doc", "csv", "xlsx"}


def _result_template(processor: str) -> str:
    return processor if processor in KNOWN_RESULTS else "generic"


def cancel(request: Request) -> HTTPSeeOther:
    doc = api.load_job(request)
    if doc["state"] not in ENDED:
        api.env_of(request).store.cancel(doc["id"])
    return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui_job", id=doc["id"]))


def delete(request: Request) -> HTTPSeeOther:
    api.delete_job(request)
    return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui"))


def includeme(config: Configurator) -> None:
    config.include("pyramid_jinja2")
    prefix = config.registry.jobs_settings.route_prefix
    config.add_static_view(f"{prefix}/static".lstrip("/"), "pyramid_jobs:static", cache_max_age=3600)
    config.add_route("pyramid_jobs.ui", f"{prefix}/ui")
    config.add_route("pyramid_jobs.ui_upload", f"{prefix}/ui/upload")
    config.add_route("pyramid_jobs.ui_job", prefix + "/ui/{id:[0-9a-f]{32}}")
    config.add_route("pyramid_jobs.ui_cancel", prefix + "/ui/{id:[0-9a-f]{32}}/cancel")
    config.add_route("pyramid_jobs.ui_delete", prefix + "/ui/{id:[0-9a-f]{32}}/delete")
    settings = config.registry.jobs_settings
    view, submit = settings.permission_view, settings.permission_submit
    config.add_view(index, route_name="pyramid_jobs.ui", request_method="GET", permission=view,
                    renderer="pyramid_jobs:templates/index.jinja2")
    # the token is checked by the add-on's bounded form reader: Pyramid's check would parse the body first
    config.add_view(upload, route_name="pyramid_jobs.ui_upload", request_method="POST", permission=submit,
                    renderer="pyramid_jobs:templates/index.jinja2", require_csrf=False)
    config.add_view(job_page, route_name="pyramid_jobs.ui_job", request_method="GET", permission=view,
                    renderer="pyramid_jobs:templates/job.jinja2")
    config.add_view(cancel, route_name="pyramid_jobs.ui_cancel", request_method="POST", permission=submit)
    config.add_view(delete, route_name="pyramid_jobs.ui_delete", request_method="POST", permission=submit)
