"""The application ``pserve development.ini`` serves: the add-on alone, with ``/`` sent to the pages,
and the authentication ``jobs.auth`` asks for (see :mod:`pyramid_jobs.auth`)."""
from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound

from .auth import auth_permissions, configure


def main(global_config: dict, **settings: Any) -> Any:
    settings.setdefault("here", global_config.get("here"))
    auth_permissions(settings)
    with Configurator(settings=settings) as config:
        config.include("pyramid_jobs")
        configure(config, global_config)
        config.add_route("home", "/")
        config.add_view(lambda request: HTTPFound(location=request.route_path("pyramid_jobs.ui")), route_name="home")
    return config.make_wsgi_app()
