"""Every error of the API in one shape: ``{"error": {"code", "message", "status"}}``.

These exception views answer only for the add-on's API routes (and for unknown paths under its
prefix), so the host application's own error pages stay as they are.
"""
from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError as BrokerError
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response

from ..errors import JobsError
from ..i18n import Message, translate
from ..renderers import dumps
from ..store import StoreUnavailable

log = logging.getLogger("pyramid_jobs.views")


class JobsApiPredicate:
    """True for requests that belong to the JSON API (not the HTML pages, not the host)."""

    def __init__(self, value: bool, config: Any):
        self.value = value

    def text(self) -> str:
        return f"jobs_api = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Request) -> bool:
        return is_api_request(request) == self.value


def is_api_request(request: Request) -> bool:
    route = getattr(request, "matched_route", None)
    if route is not None:
        return route.name.startswith("pyramid_jobs.") and not route.name.startswith("pyramid_jobs.ui")
    try:
        base = request.route_path("pyramid_jobs.collection")
    except KeyError:
        return False
    return (request.path == base or request.path.startswith(base + "/")) and not request.path.startswith(base + "/ui")


def error_response(request: Request, code: str, message: str, status: int) -> Response:
    body = dumps({"error": {"code": code, "message": message, "status": status}})
    response = Response(body=body.encode("utf-8"), status=status, content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def jobs_error(exc: JobsError, request: Request) -> Response:
    """The code stays as it is (programs read it); the message is in the reader's language."""
    return error_response(request, exc.code, translate(request, exc.message), exc.status)


def not_found(exc: HTTPNotFound, request: Request) -> Response:
    return error_response(request, "not_found",
                          translate(request, Message("There is nothing here: no such job, file or route.")), 404)


def forbidden(exc: HTTPForbidden, request: Request) -> Response:
    return error_response(request, "forbidden", translate(request, Message("You are not allowed to do this.")), 403)


def http_error(exc: HTTPException, request: Request) -> Response:
    code = exc.title.lower().replace(" ", "_") if exc.title else "error"
    return error_response(request, code, exc.explanation or exc.title, exc.code)


def unavailable(exc: Exception, request: Request) -> Response:
    log.warning("service unavailable: %s", exc)
    response = error_response(request, "unavailable",
                              translate(request, Message(
                                  "The job service's store or broker does not answer; try again in a moment.")), 503)
    response.headers["Retry-After"] = "5"
    return response


def internal(exc: Exception, request: Request) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(request, "internal_error",
                          translate(request, Message("Something went wrong on our side; it was logged.")), 500)


def includeme(config: Configurator) -> None:
    config.add_view_predicate("jobs_api", JobsApiPredicate)
    config.add_exception_view(jobs_error, context=JobsError, jobs_api=True)
    config.add_notfound_view(not_found, jobs_api=True)
    config.add_forbidden_view(forbidden, jobs_api=True)
    config.add_exception_view(http_error, context=HTTPException, jobs_api=True)
    config.add_exception_view(unavailable, context=StoreUnavailable, jobs_api=True)
    config.add_exception_view(unavailable, context=BrokerError, jobs_api=True)
    config.add_exception_view(internal, context=Exception, jobs_api=True)
