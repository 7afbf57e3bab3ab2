"""A processor brings its own result template, static files and limits; the core names none of them."""
from __future__ import annotations

import re

import pytest
from pyramid.exceptions import ConfigurationExecutionError

from pyramid_jobs.errors import ConfigurationError
from pyramid_jobs.runner import run_job
from tests.conftest import ROOT, settings_for
from tests.hostapp import main as host_main

BUILT_IN_LIMITS = ("max_pages", "max_stream_size", "max_rows", "max_columns", "max_cells", "max_field_size",
                   "max_text_size", "preview_chars", "max_unzipped_size", "max_zip_ratio", "max_zip_entries")


def _job(app, name, body, **fields):
    job = app.post("/jobs", params=fields, upload_files=[("file", name, body)], status=202).json
    run_job(job["id"], app.env)
    return app.get(f"/jobs/{job['id']}").json


def test_shout_page_uses_its_own_template_and_stylesheet(app):
    job = _job(app, "hi.shout", b"hello")
    assert job["state"] == "succeeded"
    page = app.get(f"/jobs/ui/{job['id']}")
    assert page.html.select_one(".shout-count").text.strip() == "5 characters shouted"
    css = [link["href"] for link in page.html.select("link[rel=stylesheet]")]
    assert "/jobs/ui/assets/shout/shout.css" in css
    served = app.get("/jobs/ui/assets/shout/shout.css")
    assert ".shout-count" in served.text and served.content_type == "text/css"
    for bad in ("../__init__.py", "..%2F__init__.py", ".hidden", "nope.css"):
        app.get(f"/jobs/ui/assets/shout/{bad}", status=404)
    app.get("/jobs/ui/assets/txt/anything.css", status=404)  # txt ships no static folder


def test_built_in_templates_are_resolved_through_the_processor(app):
    job = _job(app, "t.csv", b"a,b\n1,x\n2,y\n1000000.5,z\n")
    page = app.get(f"/jobs/ui/{job['id']}")
    headers = [th.text for th in page.html.select("table.columns thead th")]
    assert "Median" in headers and "Std. deviation" in headers
    assert "1,000,000.5" in page.text and "e+06" not in page.text
    generic = _job(app, "s.slow", b"x", options='{"ticks": 1, "tick": 0}')
    assert app.get(f"/jobs/ui/{generic['id']}").html.select_one("dl.facts"), "no template: the generic one"


def test_a_processor_declares_its_own_limit(tmp_path):
    import webtest

    from pyramid_jobs.runtime import get_runtime

    wsgi = host_main({"here": str(tmp_path)}, **settings_for(tmp_path, **{"jobs.limit.max_shout_chars": "4"}))
    app = webtest.TestApp(wsgi)
    app.env = get_runtime(wsgi.registry)
    small = _job(app, "a.shout", b"abcd")
    large = _job(app, "b.shout", b"abcde")
    assert small["state"] == "succeeded"
    assert large["state"] == "failed" and large["error"]["code"] == "too_large"
    assert "at most 4" in large["error"]["message"]
    shout = {p["name"]: p for p in app.get("/jobs/processors").json["processors"]}["shout"]
    assert shout["limits"] == {"max_shout_chars": 1_000_000}, "the declared default, listed"


def test_a_limit_no_processor_declares_stops_start_up(tmp_path):
    with pytest.raises((ConfigurationError, ConfigurationExecutionError)) as info:
        host_main({"here": str(tmp_path)}, **settings_for(tmp_path, **{"jobs.limit.max_pagez": "1"}))
    assert "jobs.limit.max_pagez" in str(info.value) and "max_pages" in str(info.value)
    assert "max_shout_chars" in str(info.value), "a plugin's limit is as known as a built-in one"


def test_the_core_names_no_built_in_processor_or_limit():
    for path in (ROOT / "pyramid_jobs").rglob("*.py"):
        text = path.read_text()
        for name in BUILT_IN_LIMITS:
            assert not re.search(rf"[\"']{name}[\"']", text), f"{path.name} lists the limit {name}"
        assert not re.search(r"[\"']processors:", text) and "KNOWN_RESULTS" not in text, path
    assert not list((ROOT / "pyramid_jobs" / "templates" / "results").glob("csv*")), "built-in templates moved"
