"""The OpenAPI description stays true: every API route is in it, and real answers validate against it."""
from __future__ import annotations

import re

import jsonschema
import webtest
from pyramid.interfaces import IRoutesMapper

from pyramid_jobs.runner import run_job
from tests.conftest import settings_for
from tests.hostapp import main as host_main


def spec_of(app):
    doc = app.get("/jobs/openapi.json").json
    assert doc["openapi"].startswith("3.")
    return doc


def validator(doc, name):
    schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_every_api_route_is_described(app):
    doc = spec_of(app)
    mapper = app.app.registry.getUtility(IRoutesMapper)
    api_routes = {re.sub(r"\{(\w+):[^/]*\}(?=/|$)", r"{\1}", r.pattern) for r in mapper.get_routes()
                  if r.name.startswith("pyramid_jobs.") and not r.name.startswith("pyramid_jobs.ui")
                  and "__static" not in r.name}
    assert api_routes == set(doc["paths"])


def test_answers_validate(app):
    doc = spec_of(app)
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello there")], status=202).json
    validator(doc, "Job").validate(job)
    validator(doc, "JobList").validate(app.get("/jobs").json)
    validator(doc, "Processors").validate(app.get("/jobs/processors").json)
    validator(doc, "Health").validate(app.get("/jobs/health").json)
    run_job(job["id"], app.env)
    validator(doc, "Job").validate(app.get(f"/jobs/{job['id']}").json)
    for res in (app.get("/jobs/" + "0" * 32, status=404), app.get("/jobs?limit=0", status=400),
                app.post("/jobs", upload_files=[("file", "a.mkv", b"x")], status=415),
                app.post(f"/jobs/{job['id']}/cancel", status=409)):
        validator(doc, "Error").validate(res.json)
        assert str(res.status_int) in doc["paths"][_path_of(doc, res.request.path)][res.request.method.lower()][
            "responses"]


def _path_of(doc, path: str) -> str:
    for template in doc["paths"]:
        if re.fullmatch(re.sub(r"\{\w+\}", r"[^/]+", template), path):
            return template
    raise AssertionError(path)


def test_prefix_applied(tmp_path):
    wsgi = host_main({"here": str(tmp_path)}, **settings_for(tmp_path, **{"jobs.route_prefix": "/files"}))
    doc = webtest.TestApp(wsgi).get("/files/openapi.json").json
    assert "/files/{id}" in doc["paths"] and "/jobs" not in doc["paths"]
