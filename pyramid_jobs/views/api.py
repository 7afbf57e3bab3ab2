"""The JSON API: submit, list, status, result, artifacts, cancel, delete, processors, health."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import FileResponse, Response

from ..context import check_artifact_name
from ..csrf import csrf_field, same_origin
from ..errors import BadRequest, Conflict, NotFound, UnsupportedType
from ..form import FilePart, UploadForm, form_rules, is_out_of_space, out_of_space, read_form
from ..i18n import Message
from ..jobjson import job_json
from ..options import parse_options, secret_names, validate_options
from ..renderers import dumps
from ..runtime import JobsRuntime, get_runtime
from ..store import ANY, ENDED, STATES, SUCCEEDED, new_record
from ..uploads import check_content, display_name, take_upload, too_large

log = logging.getLogger("pyramid_jobs.api")

MAX_LIMIT = 100


def json_response(request: Request, data: Any, *, status: int = 200, etag: bool = False) -> Response:
    response = Response(body=dumps(data, separators=(",", ":")).encode("utf-8"), status=status,
                        content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    if etag:
        response.md5_etag()
        response.conditional_response = True
    return response


def url_builder(request: Request) -> Any:
    def url(kind: str, kw: dict) -> str:
        if kind == "page":
            try:
                return request.route_path("pyramid_jobs.ui_job", id=kw["id"])
            except KeyError:
                return request.route_path("pyramid_jobs.job", **kw)
        return request.route_path(f"pyramid_jobs.{kind}", **kw)

    return url


def env_of(request: Request) -> JobsRuntime:
    return get_runtime(request.registry)


def is_admin(request: Request) -> bool:
    perm = env_of(request).settings.permission_admin
    return bool(perm) and bool(request.has_permission(perm))


def visible_owner(request: Request) -> Any:
    """Whose jobs the caller sees: everyone's for an administrator, else their own."""
    return ANY if is_admin(request) else request.authenticated_userid


def load_job(request: Request) -> dict:
    """The job named in the URL, or 404 (also when it belongs to someone else)."""
    doc = env_of(request).store.get(request.matchdict["id"])
    if doc is None:
        raise NotFound(Message("There is no job ${id}.", id=request.matchdict["id"]))
    owner = visible_owner(request)
    if owner is not ANY and doc.get("owner") != owner:
        raise NotFound(Message("There is no job ${id}.", id=request.matchdict["id"]))
    return doc


def submit(request: Request) -> Response:
    doc = create_jobs(request, single=True)[0]
    response = json_response(request, job_json(doc, url_builder(request)), status=202)
    response.location = request.route_url("pyramid_jobs.job", id=doc["id"])
    return response


def create_jobs(request: Request, *, single: bool,
                check: Callable[[UploadForm], None] | None = None) -> list[dict]:
    """Store the form's file(s) (the first only when ``single``), record and enqueue a job for each.

    The form is read under the limits of :mod:`..form`; ``check`` sees it before anything is stored
    (the pages check their CSRF token there). Every file's type and the options are checked before
    any job is made; a file refused later (its content) refuses the request from that file on, and
    leaves nothing of itself behind."""
    env = env_of(request)
    s = env.settings
    limit = s.max_upload_size
    bound = (limit + 64 * 1024) * (1 if single else s.max_files_per_request) + s.max_options_size + 64 * 1024
    if request.content_length and request.content_length > bound:
        raise too_large(request.content_length, limit)
    rules = form_rules(s, keep_files=1 if single else s.max_files_per_request, extra=csrf_field(request))
    if request.is_body_seekable:
        request.body_file_raw.seek(0)
    with read_form(request.body_file, request.environ.get("CONTENT_TYPE"), request.content_length, rules) as form:
        if check is not None:
            check(form)
        if not form.files:
            raise BadRequest(Message("Send the file as a multipart form field named 'file'."))
        raw_options = parse_options(form.fields.get("options"), s.max_options_size)
        name = (form.text("processor") or "").strip()
        planned = []
        for part in form.files:
            filename = display_name(part.filename)
            processor = _processor_for(env, name, filename)
            planned.append((part, filename, processor, validate_options(processor, raw_options)))
        return [_store_job(request, env, *plan) for plan in planned]


def _processor_for(env: JobsRuntime, name: str, filename: str) -> Any:
    if name:
        processor = env.processors.get(name)
        if processor is None:
            installed = ", ".join(sorted(p.name for p in env.processors))
            raise BadRequest(Message("There is no processor '${name}'; installed: ${installed}.", name=name[:100],
                                     installed=installed))
        return processor
    processor = env.processors.for_filename(filename)
    if processor is None:
        raise UnsupportedType(Message("No processor takes '${name}'. Accepted extensions: ${extensions}.",
                                      name=filename, extensions=", ".join(env.processors.extensions())))
    return processor


def _store_job(request: Request, env: JobsRuntime, part: FilePart, filename: str, processor: Any,
               options: dict) -> dict:
    job_id = uuid.uuid4().hex
    try:
        take_upload(part, env.files.upload(job_id))
        check_content(processor, env.files.upload(job_id), filename)
        media_type = processor.media_types[0] if processor.media_types else "application/octet-stream"
        doc = new_record(job_id, filename=filename, size=part.size, media_type=media_type,
                         processor=processor.name, options=options, owner=request.authenticated_userid,
                         secret=secret_names(processor))
        txn = host_transaction(request)
        if txn is not None and hasattr(env.store, "create_with"):  # the record commits with the host's work
            env.store.create_with(txn, doc, on_abort=lambda: env.files.remove(job_id))
        else:
            env.store.create(doc)
    except BaseException as exc:  # refused or failed: nothing of the upload stays behind
        env.files.remove(job_id)
        if is_out_of_space(exc):
            raise out_of_space() from None
        raise
    log.info("job %s: queued (%s, %s, %d bytes)", job_id, processor.name, filename, part.size)
    after_commit(request, lambda: enqueue(request, job_id, processor.name))
    return doc


def enqueue(request: Request, job_id: str, processor: str) -> None:
    """Publish the job; a broker that does not answer leaves it queued for the sweep to send."""
    try:
        env_of(request).enqueue(job_id, processor)
    except Exception:
        log.warning("job %s: the broker did not take it; the sweep will enqueue it again", job_id, exc_info=True)


def host_transaction(request: Request) -> Any:
    """The host's current transaction when pyramid_tm manages this request, else None."""
    manager = request.environ.get("tm.manager") if request.environ.get("tm.active") else None
    return manager.get() if manager is not None else None


def after_commit(request: Request, fn: Any) -> None:
    """With pyramid_tm, publish only once the host's transaction committed; else at once."""
    txn = host_transaction(request)
    if txn is not None:
        txn.addAfterCommitHook(lambda ok: ok and fn())
    else:
        fn()


def list_jobs(request: Request) -> Response:
    env = env_of(request)
    state = request.GET.get("state") or None
    if state is not None and state not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}.")
    try:
        limit = int(request.GET.get("limit", 20))
    except ValueError:
        raise BadRequest("limit must be a whole number from 1 to 100.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}.")
    before = request.GET.get("before") or None
    if before is not None and not (len(before) == 32 and all(c in "0123456789abcdef" for c in before)):
        raise BadRequest("before must be a cursor taken from a previous page's 'next' link.")
    owner = visible_owner(request)
    try:
        docs, more = env.store.list(state=state, owner=owner, before=before, limit=limit)
    except KeyError:
        raise BadRequest("before names no job: take the cursor from a previous page's 'next' link.") from None
    if before is not None:
        cursor_doc = env.store.get(before)
        if cursor_doc is None or (owner is not ANY and cursor_doc.get("owner") != owner):
            raise BadRequest("before names no job: take the cursor from a previous page's 'next' link.")
    url = url_builder(request)
    nxt = None
    if more and docs:
        query = {"limit": limit, "before": docs[-1]["id"]}
        if state:
            query["state"] = state
        nxt = request.route_path("pyramid_jobs.collection", _query=query)
    body: dict[str, Any] = {"jobs": [job_json(d, url) for d in docs], "next": nxt}
    return json_response(request, body, etag=True)


def show_job(request: Request) -> Response:
    return json_response(request, job_json(load_job(request), url_builder(request)), etag=True)


def show_result(request: Request) -> Response:
    doc = load_job(request)
    if doc["state"] != SUCCEEDED:
        raise Conflict(Message("The job is ${state}: it has a result only once it succeeded.", state=doc["state"]),
                       code="not_succeeded")
    text = env_of(request).store.result(doc["id"]) or "{}"
    response = Response(body=text.encode("utf-8"), content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "private, max-age=0"
    response.md5_etag()
    response.conditional_response = True
    return response


def download_artifact(request: Request) -> Response:
    doc = load_job(request)
    name = request.matchdict["name"]
    try:
        check_artifact_name(name)
    except ValueError:
        raise NotFound("There is no such file.") from None
    entry = next((a for a in doc.get("artifacts") or [] if a["name"] == name), None)
    if entry is None or doc["state"] != SUCCEEDED:
        raise NotFound(Message("The job has no output file '${name}'.", name=name))
    path = env_of(request).files.artifact(doc, name)
    if not path.is_file():
        raise NotFound(f"The output file {name!r} is gone.")
    response = FileResponse(str(path), request=request, content_type=entry.get("media_type"))
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


def cancel_job(request: Request) -> Response:
    doc = load_job(request)
    if doc["state"] in ENDED:
        raise Conflict(Message("The job already ended (${state}).", state=doc["state"]), code="already_finished")
    doc = env_of(request).store.cancel(doc["id"]) or doc
    log.info("job %s: cancel requested (%s)", doc["id"], doc["state"])
    return json_response(request, job_json(doc, url_builder(request)), status=202)


def delete_job(request: Request) -> Response:
    doc = load_job(request)
    env = env_of(request)
    env.store.cancel(doc["id"])
    env.store.delete(doc["id"])
    env.files.remove(doc["id"])
    log.info("job %s: deleted", doc["id"])
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


def list_processors(request: Request) -> Response:
    return json_response(request, {"processors": env_of(request).processors.describe()}, etag=True)


def health(request: Request) -> Response:
    """Whether the store and the broker answer, when the sweep last ran and a worker was last seen
    (503 when either is older than a few sweep intervals), and whether the store would survive
    a restart of its server."""
    from ..sweep import SWEPT, WORKER_SEEN

    env = env_of(request)
    store_ok = env.store.ping()
    body: dict[str, Any] = {
        "store": store_ok,
        "broker": env.broker_ok(),
        "embedded_worker": env.embedded_worker.alive if env.embedded_worker is not None else None,
        "oldest_queued_seconds": env.store.oldest_queued_age() if store_ok else None,
        "last_sweep_seconds": None,
        "worker_seen_seconds": None,
        "store_persistent": env.store.persistent() if store_ok else None,
        "warnings": [],
    }
    if store_ok:
        now = time.time()
        for key, mark in (("last_sweep_seconds", SWEPT), ("worker_seen_seconds", WORKER_SEEN)):
            at = env.store.touched(mark)
            body[key] = round(now - at, 1) if at is not None else None
    body["warnings"] = health_warnings(env, body)
    body["ok"] = store_ok and body["broker"] and not any(w["fails"] for w in body["warnings"])
    return json_response(request, body, status=200 if body["ok"] else 503)


def health_warnings(env: JobsRuntime, body: dict) -> list[dict]:
    """What an operator should act on; ``fails`` marks the ones that make the health check fail."""
    out = []
    stale = max(3 * env.settings.sweep_interval, 180.0)
    if body["store"] and body["store_persistent"] is False:
        out.append({"code": "store_not_persistent", "fails": False, "message":
                    "The job store's Redis has neither AOF nor RDB persistence: a restart loses every job."})
    if body["store"] and (body["last_sweep_seconds"] is None or body["last_sweep_seconds"] > stale):
        out.append({"code": "sweep_stale", "fails": body["last_sweep_seconds"] is not None, "message":
                    "The sweep has not run for a while: is celery beat (or the embedded worker) running?"})
    if body["embedded_worker"] is False:
        out.append({"code": "embedded_worker_down", "fails": True, "message":
                    "The embedded worker (or the fork server that starts its jobs) stopped: restart the web process."})
    if body["store"] and (body["worker_seen_seconds"] is None or body["worker_seen_seconds"] > stale):
        out.append({"code": "no_worker", "fails": body["worker_seen_seconds"] is not None, "message":
                    "No worker has been seen for a while: queued jobs will wait."})
    return out


def openapi_document(request: Request) -> Response:
    from ..openapi import build

    s = env_of(request).settings
    limits = {"max_upload_size": s.max_upload_size, "max_files_per_request": s.max_files_per_request,
              "max_options_size": s.max_options_size}
    return json_response(request, build(request.route_path("pyramid_jobs.collection"), limits), etag=True)


def includeme(config: Configurator) -> None:
    settings = config.registry.jobs_settings
    submit_perm = settings.permission_submit
    view_perm = settings.permission_view
    add = config.add_view
    add(submit, route_name="pyramid_jobs.collection", request_method="POST", permission=submit_perm,
        require_csrf=False, decorator=same_origin)
    add(list_jobs, route_name="pyramid_jobs.collection", request_method="GET", permission=view_perm)
    add(list_processors, route_name="pyramid_jobs.processors", request_method="GET", permission=view_perm)
    add(health, route_name="pyramid_jobs.health", request_method="GET")
    add(openapi_document, route_name="pyramid_jobs.openapi", request_method="GET")
    add(show_job, route_name="pyramid_jobs.job", request_method="GET", permission=view_perm)
    add(delete_job, route_name="pyramid_jobs.job", request_method="DELETE", permission=submit_perm,
        require_csrf=False, decorator=same_origin)
    add(show_result, route_name="pyramid_jobs.result", request_method="GET", permission=view_perm)
    add(download_artifact, route_name="pyramid_jobs.artifact", request_method="GET", permission=view_perm)
    add(cancel_job, route_name="pyramid_jobs.cancel", request_method="POST", permission=submit_perm,
        require_csrf=False, decorator=same_origin)
