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
import os
import re
from typing import Any

from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.path import AssetResolver
from pyramid.request import Request
from pyramid.response import FileResponse

from .. import humanize
from ..csrf import check_form_token, csrf_field
from ..errors import JobsError
from ..i18n import gettext_for, locale_of, translate
from ..jobjson import job_json
from ..preview import PREVIEW_BYTES, PREVIEW_NAME, markdown_preview
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


#: strings the script shows, translated on the server and handed over in ``data-i18n``
JS_MESSAGES = {
    "no_file": "No file chosen",
    "uploading": "Uploading…",
    "upload": "Upload",
    "sent": "${sent} of ${total} sent",
    "processing": "Sent; the server is storing the files…",
    "options_json": "Options must be a JSON object, such as {\"password\": \"…\"}.",
    "too_large": "${name}: ${size} is over the ${limit} limit.",
    "no_processor": "${name}: no processor takes this type of file.",
    "choose": "Choose a file first.",
    "refused": "refused",
    "failed_upload": "The upload failed; check your connection and try again.",
    "step": "Step ${step} of ${steps}: ${name}",
    "of": "${current} of ${total}",
    "waiting_worker": "Waiting for a worker…",
    "ended": "The job ended: ${state}.",
    "done": "done", "running": "running", "waiting": "waiting",
    "progress_of": "progress of ${name}",
    "no_jobs": "No jobs yet.",
    "seconds_ago": "${n} s ago", "minutes_ago": "${n} min ago", "hours_ago": "${n} h ago", "days_ago": "${n} d ago",
    "just_now": "just now",
    "elapsed_s": "${s} s", "elapsed_m": "${m} min ${s} s",
    "bytes": "bytes", "byte": "byte",
    "File": "File", "Processor": "Processor", "State": "State", "Progress": "Progress", "Created": "Created",
}
STATE_NAMES = {"queued": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed",
               "cancelled": "cancelled"}
TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false"}


def _common(request: Request) -> dict:
    env = api.env_of(request)
    gettext, ngettext = gettext_for(request)
    js = {key: gettext(text) for key, text in JS_MESSAGES.items()}
    js.update({f"state_{k}": gettext(v) for k, v in STATE_NAMES.items()})
    return {
        "prefix": request.route_path("pyramid_jobs.collection"),
        "static": lambda name: request.static_path(f"pyramid_jobs:static/{name}"),
        "csrf_token": _csrf_token(request),
        "max_upload_size": env.settings.max_upload_size,
        "max_upload_human": human_size(env.settings.max_upload_size),
        "locale": locale_of(request).replace("_", "-"),
        "_": gettext,
        "_n": ngettext,
        "js_messages": js,
        "state_names": {k: gettext(v) for k, v in STATE_NAMES.items()},
        "type_names": {k: gettext(v) for k, v in TYPE_NAMES.items()},
        "extra_css": [],
        "extra_js": [],
    }


#: The only messages a link may make the upload page show (``?error=<code>``): text the server wrote.
PAGE_ERRORS = {
    "not_found": "There is no such job, or it was removed.",
    "cross_site": "That request came from another site and was refused.",
    "csrf": "The form was out of date; reload the page and send it again.",
}


def _cursor(request: Request) -> str | None:
    before = request.GET.get("before") or None
    if before and len(before) == 32 and all(c in "0123456789abcdef" for c in before):
        return before
    return None


def index(request: Request) -> dict:
    _secure(request)
    env = api.env_of(request)
    before = _cursor(request)
    owner = api.visible_owner(request)
    try:
        docs, more = env.store.list(owner=owner, before=before, limit=20)
    except KeyError:  # a cursor naming no job: start from the newest
        before = None
        docs, more = env.store.list(owner=owner, limit=20)
    url = api.url_builder(request)
    processors = env.processors.describe()
    return {
        **_common(request),
        "processors": processors,
        "extensions": env.processors.extensions(),
        "jobs": [job_json(d, url) for d in docs],
        "before": before,
        "next_cursor": docs[-1]["id"] if more and docs else None,
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
        data["error"] = translate(request, exc.message)
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
    result = preview = None
    if doc["state"] == SUCCEEDED:
        text = env.store.result(doc["id"])
        result = json.loads(text) if text else None
        if any(a["name"] == PREVIEW_NAME for a in doc.get("artifacts") or []):
            preview = markdown_preview(env.files.artifact(doc, PREVIEW_NAME))
    processor = env.processors.get(doc["processor"])
    return {
        **_common(request),
        "job": job,
        "result": result,
        "preview": preview,
        "preview_name": PREVIEW_NAME,
        "preview_limit": human_size(PREVIEW_BYTES),
        "ended": doc["state"] in ENDED,
        "steps": list(processor.steps) if processor else [],
        "duration": humanize.between(doc.get("started_at") or doc.get("created_at"), doc.get("finished_at")),
        "result_template": getattr(processor, "result_template", None) or GENERIC_RESULT,
        "extra_css": _assets(request, processor, "stylesheets"),
        "extra_js": _assets(request, processor, "scripts"),
    }


GENERIC_RESULT = "pyramid_jobs:templates/results/generic.jinja2"


def _assets(request: Request, processor: Any, kind: str) -> list[str]:
    """URLs of the stylesheets or scripts a processor ships in its ``static`` folder."""
    if processor is None or not getattr(processor, "static", None):
        return []
    return [request.route_path("pyramid_jobs.ui_asset", processor=processor.name, file=name)
            for name in getattr(processor, kind, ()) or ()]


def asset(request: Request) -> FileResponse:
    """A file of a processor's ``static`` folder (its result page's CSS, scripts, images)."""
    processor = api.env_of(request).processors.get(request.matchdict["processor"])
    name = request.matchdict["file"]
    if processor is None or not processor.static or not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", name) \
            or any(part.startswith(".") for part in name.split("/")):
        raise HTTPNotFound()
    folder = AssetResolver().resolve(processor.static).abspath()
    path = os.path.realpath(os.path.join(folder, name))
    if not path.startswith(os.path.realpath(folder) + os.sep) or not os.path.isfile(path):
        raise HTTPNotFound()
    response = FileResponse(path, request=request, cache_max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def cancel(request: Request) -> HTTPSeeOther:
    doc = api.load_job(request)
    if doc["state"] not in ENDED:
        api.env_of(request).store.cancel(doc["id"])
    return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui_job", id=doc["id"]))


def delete(request: Request) -> HTTPSeeOther:
    api.delete_job(request)
    return HTTPSeeOther(location=request.route_path("pyramid_jobs.ui"))


def _add_filters(config: Configurator) -> None:
    """The ``jobs_*`` filters, added to the ``.jinja2`` environment once pyramid_jinja2 has built it."""

    def register() -> None:
        environment = config.get_jinja2_environment()
        if environment is not None:
            environment.filters.update(humanize.FILTERS)

    config.action(("pyramid_jobs", "jinja2-filters"), register, order=999)


def includeme(config: Configurator) -> None:
    config.include("pyramid_jinja2")
    _add_filters(config)
    prefix = config.registry.jobs_settings.route_prefix
    config.add_static_view(f"{prefix}/static".lstrip("/"), "pyramid_jobs:static", cache_max_age=3600)
    config.add_route("pyramid_jobs.ui", f"{prefix}/ui")
    config.add_route("pyramid_jobs.ui_upload", f"{prefix}/ui/upload")
    config.add_route("pyramid_jobs.ui_job", prefix + "/ui/{id:[0-9a-f]{32}}")
    config.add_route("pyramid_jobs.ui_cancel", prefix + "/ui/{id:[0-9a-f]{32}}/cancel")
    config.add_route("pyramid_jobs.ui_delete", prefix + "/ui/{id:[0-9a-f]{32}}/delete")
    config.add_route("pyramid_jobs.ui_asset", prefix + "/ui/assets/{processor}/{file:.+}")
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
    config.add_view(asset, route_name="pyramid_jobs.ui_asset", request_method="GET")
