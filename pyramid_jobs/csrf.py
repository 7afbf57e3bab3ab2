"""Cross-site request checks for the routes that change something.

The API's unsafe methods skip Pyramid's CSRF token check (API clients send no token), so a host
that authenticates by cookie would let any other site submit, cancel and delete in its user's
name. :func:`same_origin` closes that: a request that carries cookies must say where it comes
from (``Origin``, else ``Referer``) and it must be this host or one of
``pyramid.csrf_trusted_origins``; without either header it needs a header no cross-site form can
send (``X-Requested-With`` or ``X-CSRF-Token``). Requests without cookies (scripts, ``pjobs``)
are not affected: a browser on another site cannot make them carry the user's credentials.

The upload page's form is read by the add-on's own bounded parser, so its token is checked here
too (:func:`check_form_token`), after the form was read and before anything is stored.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pyramid.exceptions import BadCSRFToken
from pyramid.interfaces import ICSRFStoragePolicy, IDefaultCSRFOptions
from pyramid.request import Request
from pyramid.settings import aslist

from .errors import Forbidden

NON_SIMPLE = ("X-Requested-With", "X-CSRF-Token")


class CrossSite(Forbidden):
    code = "cross_site"


def csrf_field(request: Request) -> str:
    """The name of the form field holding the host's CSRF token."""
    options = request.registry.queryUtility(IDefaultCSRFOptions)
    return getattr(options, "token", None) or "csrf_token"


def same_origin(view: Any) -> Any:
    """View decorator: refuse a cookie-carrying request from another site (403 ``cross_site``)."""

    def wrapped(context: Any, request: Request) -> Any:
        check_origin(request)
        return view(context, request)

    return wrapped


def check_origin(request: Request) -> None:
    if not request.headers.get("Cookie"):
        return
    origin = request.headers.get("Origin") or request.referrer
    if not origin:
        if any(request.headers.get(h) for h in NON_SIMPLE):
            return
        raise CrossSite("A browser request that carries cookies must send Origin or Referer "
                        "(or X-Requested-With); this one sent none.")
    if _netloc(origin) not in trusted_hosts(request):
        raise CrossSite("This request comes from another site; it was refused.")


def trusted_hosts(request: Request) -> set[str]:
    hosts = {h.lower() for h in aslist(request.registry.settings.get("pyramid.csrf_trusted_origins", []))}
    hosts.add(request.host.lower())
    if request.host_port in ("80", "443"):
        hosts.add(request.domain.lower())
    return hosts


def _netloc(origin: str) -> str | None:
    origin = origin.split(" ")[-1]
    if origin == "null":
        return None
    parts = urlsplit(origin)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else None


def check_form_token(request: Request, supplied: str | None) -> None:
    """When the host requires CSRF tokens by default, the form's token must be the session's."""
    options = request.registry.queryUtility(IDefaultCSRFOptions)
    if options is None or not options.require_csrf:
        return
    policy = request.registry.queryUtility(ICSRFStoragePolicy)
    header = request.headers.get(options.header) if options.header else None
    token = header or supplied
    if policy is None or not token or not policy.check_csrf_token(request, token):
        raise BadCSRFToken("The form's CSRF token is missing or does not match; reload the page and send it again.")
    if options.check_origin:
        from pyramid.csrf import check_csrf_origin

        check_csrf_origin(request, allow_no_origin=options.allow_no_origin)
