"""Issue 12, only for the owner: secrets never shown, cross-site writes refused, page messages
written by the server only (authentication of the standalone app: test_auth.py)."""
from __future__ import annotations

import json
import logging

import webtest
from pyramid.config import Configurator
from pyramid.session import SignedCookieSessionFactory

from pyramid_jobs.runner import run_job
from tests.conftest import settings_for, write_ini
from tests.test_api import assert_error, submit
from tests.test_pjobs import pjobs

SECRET = "hunter2-never-shown"


def test_secret_options_are_never_shown_and_gone_when_the_job_ends(app, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    job = submit(app, name="a.slow", options=json.dumps({"ticks": 1, "tick": 0.01, "token": SECRET})).json
    assert job["options"] == {"ticks": 1, "tick": 0.01}
    shown = [app.get(f"/jobs/{job['id']}").text, app.get("/jobs").text, app.get(f"/jobs/ui/{job['id']}").text,
             app.get("/jobs/ui").text]
    assert not any(SECRET in text for text in shown)
    assert app.env.store.get(job["id"])["options"]["token"] == SECRET, "the worker still reads it"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.max_upload_size": "1MB"}))
    out = pjobs("show", str(ini), job["id"])
    assert out.returncode == 0 and job["id"] in out.stdout and SECRET not in out.stdout
    assert run_job(job["id"], app.env).state == "succeeded"
    record = app.env.store.get(job["id"])
    assert "token" not in record["options"] and SECRET not in json.dumps(record)
    assert SECRET not in caplog.text


def test_a_cancelled_job_drops_its_secret_too(app):
    job = submit(app, name="a.slow", options=json.dumps({"token": SECRET})).json
    app.post(f"/jobs/{job['id']}/cancel", status=202)
    assert SECRET not in json.dumps(app.env.store.get(job["id"]))


def cookie_host(tmp_path) -> webtest.TestApp:
    """A host that authenticates by session cookie and enables CSRF by default."""
    with Configurator(settings=settings_for(tmp_path)) as config:
        config.set_session_factory(SignedCookieSessionFactory("s" * 32))
        config.set_default_csrf_options(require_csrf=True)
        config.include("pyramid_jobs")
    return webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "jobs.example"})


def test_cross_site_writes_with_cookies_are_refused(tmp_path):
    app = cookie_host(tmp_path)
    app.set_cookie("session", "abc")
    files = [("file", "a.txt", b"x")]
    evil = {"Origin": "https://evil.example"}
    assert_error(app.post("/jobs", upload_files=files, headers=evil, status=403), 403, "cross_site")
    assert_error(app.post("/jobs", upload_files=files, status=403), 403, "cross_site")  # no Origin, no Referer
    job = app.post("/jobs", upload_files=files, headers={"Origin": "http://jobs.example"}, status=202).json
    app.post("/jobs", upload_files=files, headers={"Referer": "http://jobs.example/jobs/ui"}, status=202)
    app.post("/jobs", upload_files=files, headers={"X-Requested-With": "fetch"}, status=202)
    assert_error(app.post(f"/jobs/{job['id']}/cancel", headers=evil, status=403), 403, "cross_site")
    assert_error(app.delete(f"/jobs/{job['id']}", headers={"Origin": "null"}, status=403), 403, "cross_site")
    app.post(f"/jobs/{job['id']}/cancel", headers={"Origin": "http://jobs.example"}, status=202)
    app.delete(f"/jobs/{job['id']}", headers={"Origin": "http://jobs.example"}, status=204)


def test_requests_without_cookies_are_not_checked(tmp_path):
    app = cookie_host(tmp_path)
    app.post("/jobs", upload_files=[("file", "a.txt", b"x")], headers={"Origin": "https://other.example"},
             status=202)


def test_the_page_shows_only_messages_the_server_wrote(app):
    spoof = "Your account is locked: call 555-0100"
    assert spoof not in app.get("/jobs/ui", params={"error": spoof}).text
    assert "role=\"alert\"" not in app.get("/jobs/ui", params={"error": spoof}).text
    assert "There is no such job" in app.get("/jobs/ui", params={"error": "not_found"}).text
