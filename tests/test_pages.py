"""The HTML pages through WebTest: rendering, escaping, CSP, the no-JavaScript flow, CSRF."""
from __future__ import annotations

import re

import webtest
from pyramid.config import Configurator
from pyramid.session import SignedCookieSessionFactory

from pyramid_jobs.runner import run_job
from tests.conftest import ROOT, settings_for

HOSTILE = "<img src=x onerror='alert(1)'>.txt"  # browsers send a double quote as %22; WebTest does not


def test_upload_page_lists_types_limit_and_sends_csp(app):
    res = app.get("/jobs/ui")
    csp = res.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert ".pdf" in res.text and ".xlsx" in res.text and "1 MB" in res.text
    form = res.forms["upload-form"]
    assert form.action.endswith("/jobs/ui/upload") and form.enctype == "multipart/form-data"
    assert res.html.find("input", id="file-input") is not None
    assert res.html.find("label", attrs={"for": "file-input"}) is not None


def test_no_inline_script_style_or_other_hosts():
    for path in (ROOT / "pyramid_jobs" / "templates").rglob("*.jinja2"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert " style=" not in text and "<style" not in text, path
        assert not re.search(r"(src|href)=\"https?://", text), path


def test_static_files_are_served(app):
    for name in ("jobs.js", "jobs.css", "icon.svg"):
        assert app.get(f"/jobs/static/{name}").status_int == 200


def test_no_js_upload_redirects_to_the_job_page_which_refreshes(app):
    res = app.get("/jobs/ui")
    form = res.forms["upload-form"]
    form["file"] = [webtest.Upload(HOSTILE, b"hello world")]
    answer = form.submit(status=303)
    page = answer.follow()
    assert '<meta http-equiv="refresh"' in page.text, "a queued job's page refreshes itself without JavaScript"
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text, "file names are escaped"
    job_id = answer.location.rsplit("/", 1)[1]
    run_job(job_id, app.env)
    done = app.get(f"/jobs/ui/{job_id}")
    assert 'http-equiv="refresh"' not in done.text
    assert "Result" in done.text and "Most frequent words" in done.text and "text.txt" in done.text


def test_refused_upload_shows_the_reason(app):
    res = app.get("/jobs/ui")
    form = res.forms["upload-form"]
    form["file"] = [webtest.Upload("movie.mkv", b"\x1aE\xdf\xa3")]
    answer = form.submit(status=415)
    assert "No processor takes" in answer.text and answer.headers["Content-Security-Policy"]


def test_failed_job_shows_message_and_code_not_traceback(app):
    job = app.post("/jobs", upload_files=[("file", "x.fail", b"x")], params={"options": '{"crash": true}'}).json
    run_job(job["id"], app.env)
    page = app.get(f"/jobs/ui/{job['id']}")
    assert "processing_failed" in page.text and "Traceback" not in page.text and "secret" not in page.text


def test_cancel_and_delete_from_the_page(app):
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"x")]).json
    page = app.get(f"/jobs/ui/{job['id']}")
    page.forms["cancel-form"].submit(status=303)
    assert app.get(f"/jobs/{job['id']}").json["state"] == "cancelled"
    page = app.get(f"/jobs/ui/{job['id']}")
    page.forms[0].submit(status=303)
    app.get(f"/jobs/{job['id']}", status=404)
    app.get(f"/jobs/ui/{job['id']}", status=404)


def test_results_drawn_per_processor(app, corpus):
    expectations = {"csv_iris.csv": ["Columns", "sepal_length", "float"], "pdf_outline.pdf": ["Characters per page",
                    "<svg", "Outline"], "docx_paragraphs_tables.docx": ["Table 1"], "xlsx_merge_cells.xlsx":
                    ["Merged ranges"], "doc_poi_SampleDoc.doc": ["Nick Burch"],
                    "doc_poi_test_fields.doc": ["Parts", "Header text boxes", "Footnote with field: Fridrich Strba"],
                    "docx_poi_footnotes.docx": ["Parts", "Footnotes"]}
    for name, needles in expectations.items():
        job = app.post("/jobs", upload_files=[("file", name, (corpus / name).read_bytes())]).json
        run_job(job["id"], app.env)
        text = app.get(f"/jobs/ui/{job['id']}").text
        for needle in needles:
            assert needle in text, (name, needle)


def test_csrf_enforced_when_the_host_enables_it(tmp_path):
    with Configurator(settings=settings_for(tmp_path)) as config:
        config.set_session_factory(SignedCookieSessionFactory("s" * 32))
        config.set_default_csrf_options(require_csrf=True)
        config.include("pyramid_jobs")
    app = webtest.TestApp(config.make_wsgi_app())
    app.post("/jobs/ui/upload", upload_files=[("file", "a.txt", b"x")], status=400)
    page = app.get("/jobs/ui")
    token = page.forms["upload-form"]["csrf_token"].value
    assert token
    form = page.forms["upload-form"]
    form["file"] = [webtest.Upload("a.txt", b"x")]
    form.submit(status=303)


def test_no_js_upload_of_several_files_creates_a_job_for_each(app):
    res = app.get("/jobs/ui")
    form = res.forms["upload-form"]
    form["file"] = [webtest.Upload("one.txt", b"one"), webtest.Upload("two.csv", b"a,b\n1,2\n")]
    answer = form.submit(status=303)
    assert answer.location.endswith("/jobs/ui")
    jobs = app.get("/jobs").json["jobs"]
    assert sorted((j["filename"], j["processor"]) for j in jobs) == [("one.txt", "txt"), ("two.csv", "csv")]
    listing = answer.follow()
    assert "one.txt" in listing.text and "two.csv" in listing.text
