"""The host application for bench/submit_latency.py: pyramid_jobs plus a bare upload view to compare."""
from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.response import Response


def discard(request: Any) -> Response:
    """Accepts the same multipart upload as POST /jobs, reads it whole, keeps nothing."""
    upload = request.POST["file"]
    while upload.file.read(1 << 20):
        pass
    return Response(status=202, json_body={"ok": True})


def main(global_config: dict, **settings: Any) -> Any:
    with Configurator(settings=settings) as config:
        config.include("pyramid_jobs")
        config.add_route("bench.discard", "/discard")
        config.add_view(discard, route_name="bench.discard", request_method="POST")
    return config.make_wsgi_app()
