"""A bare Pyramid app with one JSON route: the floor the web process at rest is measured against."""
from __future__ import annotations

from typing import Any

from pyramid.config import Configurator


def main(global_config: dict, **settings: Any) -> Any:
    with Configurator(settings=settings) as config:
        config.add_route("processors", "/jobs/processors")
        config.add_view(lambda request: {"processors": []}, route_name="processors", renderer="json")
    return config.make_wsgi_app()
