"""The HTTP API through WebTest over the real WSGI app (jobs run by the real runner, in process)."""
from __future__ import annotations

import json
import os

import pytest
import webtest
from pyramid.config import Configurator

from pyramid_jobs.errors import ConfigurationError
from pyramid_jobs.runner import run_job
from tests.conftest import settings_for
from tests.hostapp import main as host_main


def submit(app, name="notes.txt", body=b"one two two\nthree\n", status=202, **fields):
    return app.post("/jobs", params=fields, upload_files=[("file", name, body)], status=status)


def assert_error(res, status, code):
    assert res.status_int == status
    assert res.content_type == "application/json"
    err = res.json["error"]
    assert err["code"] == code and err["status"] == status and err["message"]
    assert "Traceback" not in res.text


def test_submit_status_result_artifact(app):
    res = submit(app)
    job = res.json
    assert res.headers["Location"].endswith(f"/jobs/{job['id']}")
    assert job["state"] == "queued" and job["processor"] == "txt" and job["size"] == 18
    assert len(job["id"]) == 32 and job["links"]["self"] == f"/jobs/{job['id']}"
    assert_error(app.get(f"/jobs/{job['id']}/result", status=409), 409, "not_succeeded")
    assert run_job(job["id"], app.env).state == "succeeded"
    done = app.get(f"/jobs/{job['id']}").json
    assert done["state"] == "succeeded" and done["progress"]["percent"] == 100
    assert [a["name"] for a in done["artifacts"]] == ["text.txt"]
    result = app.get(f"/jobs/{job['id']}/result").json
    assert result["words"] == 4 and result["lines"] == 2 and result["top_words"][0] == {"word": "two", "count": 2}
    dl = app.get(done["artifacts"][0]["url"])
    assert dl.body == b"one two two\nthree\n"
    assert dl.headers["Content-Disposition"] == 'attachment; filename="text.txt"'
    assert dl.headers["X-Content-Type-Options"] == "nosniff"


def test_status_etag_and_no_store(app):
    job = submit(app).json
    res = app.get(f"/jobs/{job['id']}")
    assert res.headers["Cache-Control"] == "no-store" and res.etag
    app.get(f"/jobs/{job['id']}", headers={"If-None-Match": f'"{res.etag}"'}, status=304)


def test_unknown_ids_are_404(app):
    assert_error(app.get("/jobs/" + "0" * 32, status=404), 404, "not_found")
    assert_error(app.get("/jobs/" + "0" * 32 + "/result", status=404), 404, "not_found")
    assert_error(app.post("/jobs/" + "0" * 32 + "/cancel", status=404), 404, "not_found")
    assert_error(app.delete("/jobs/" + "0" * 32, status=404), 404, "not_found")
    assert_error(app.get("/jobs/not-an-id", status=404), 404, "not_found")


def test_bad_requests(app):
    assert_error(app.post("/jobs", params={"x": "1"}, status=400), 400, "bad_request")
    assert_error(submit(app, options="{not json", status=400), 400, "bad_request")
    assert_error(submit(app, options="[1]", status=400), 400, "bad_request")
    assert_error(submit(app, processor="nope", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?limit=0", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?limit=101", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?limit=x", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?state=bogus", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?before=zzz", status=400), 400, "bad_request")
    assert_error(app.get("/jobs?before=" + "a" * 32, status=400), 400, "bad_request")


def test_type_checks(app, tmp_path):
    assert_error(submit(app, name="photo.png", status=415), 415, "unsupported_type")
    assert_error(submit(app, name="binary.txt", body=b"\x00\x01\x02binary", status=422), 422, "content_mismatch")
    assert not any((tmp_path / "files").rglob("upload*")), "a refused upload leaves nothing behind"


def test_too_large_leaves_nothing(app, tmp_path):
    assert_error(submit(app, body=b"a" * 1_100_000, status=413), 413, "file_too_large")
    assert not any((tmp_path / "files").rglob("upload*"))
    assert app.get("/jobs").json["jobs"] == []


def test_filename_is_display_text_only(app, tmp_path):
    job = submit(app, name="../../etc/报告\x07.txt").json
    assert job["filename"] == "报告.txt"
    uploads = list((tmp_path / "files").rglob("upload"))
    assert len(uploads) == 1 and uploads[0].parent.name == job["id"]


def test_list_with_cursor(app):
    ids = [submit(app).json["id"] for _ in range(5)]
    first = app.get("/jobs?limit=2").json
    assert [j["id"] for j in first["jobs"]] == ids[::-1][:2]
    second = app.get(first["next"]).json
    assert [j["id"] for j in second["jobs"]] == ids[::-1][2:4]
    third = app.get(second["next"]).json
    assert [j["id"] for j in third["jobs"]] == ids[:1] and third["next"] is None
    run_job(ids[0], app.env)
    assert [j["id"] for j in app.get("/jobs?state=succeeded").json["jobs"]] == [ids[0]]


def test_cancel_and_delete(app, tmp_path):
    job = submit(app).json
    res = app.post(f"/jobs/{job['id']}/cancel", status=202)
    assert res.json["state"] == "cancelled"
    assert run_job(job["id"], app.env).state is None, "a cancelled job never starts"
    assert_error(app.post(f"/jobs/{job['id']}/cancel", status=409), 409, "already_finished")
    other = submit(app).json
    run_job(other["id"], app.env)
    app.delete(f"/jobs/{other['id']}", status=204)
    assert_error(app.get(f"/jobs/{other['id']}", status=404), 404, "not_found")
    assert not (tmp_path / "files" / other["id"][:2] / other["id"]).exists()


def test_failed_job_shows_code_never_traceback(app):
    job = submit(app, name="x.fail", body=b"x").json
    run_job(job["id"], app.env)
    assert app.get(f"/jobs/{job['id']}").json["error"] == {"code": "corrupt_file", "message": "The file is damaged."}
    crash = submit(app, name="y.fail", body=b"x", options=json.dumps({"crash": True})).json
    run_job(crash["id"], app.env)
    err = app.get(f"/jobs/{crash['id']}").json["error"]
    assert err["code"] == "processing_failed" and "secret" not in err["message"]


def test_processors_listed_with_their_package(app):
    procs = {p["name"]: p for p in app.get("/jobs/processors").json["processors"]}
    assert procs["txt"]["plugin"] == "pyramid_jobs" and ".txt" in procs["txt"]["extensions"]
    assert procs["txt"]["steps"] == ["Detect encoding", "Read text", "Summarise"]
    assert procs["shout"]["plugin"] == "shout_plugin", "the example plugin is installed by make test"
    assert procs["slow"]["plugin"] == "tests"


def test_shout_plugin_runs_with_its_artifact(app):
    job = submit(app, name="hi.shout", body=b"hello").json
    assert job["processor"] == "shout"
    assert run_job(job["id"], app.env).state == "succeeded"
    assert app.get(f"/jobs/{job['id']}/result").json == {"characters": 5}
    assert app.get(f"/jobs/{job['id']}/artifacts/shout.txt").body == b"HELLO"
    assert_error(app.get(f"/jobs/{job['id']}/artifacts/..%2Fupload", status=404), 404, "not_found")
    assert_error(app.get(f"/jobs/{job['id']}/artifacts/other.txt", status=404), 404, "not_found")


def test_route_prefix_setting_and_host_prefix(tmp_path):
    settings = settings_for(tmp_path, **{"jobs.route_prefix": "/api/files"})
    with Configurator(settings=settings) as config:
        config.include("pyramid_jobs")
    app = webtest.TestApp(config.make_wsgi_app())
    job = app.post("/api/files", upload_files=[("file", "a.txt", b"x")], status=202).json
    assert job["links"]["self"] == f"/api/files/{job['id']}"
    with Configurator(settings=settings_for(tmp_path / "b")) as config:
        config.include("pyramid_jobs", route_prefix="/host")
    app2 = webtest.TestApp(config.make_wsgi_app())
    assert app2.get("/host/jobs/processors").json["processors"]


def test_bad_setting_stops_start_up(tmp_path):
    from pyramid.exceptions import ConfigurationExecutionError

    # settings are read in a deferred action (a host may change them after the include), so
    # Pyramid wraps the error; its message still names the key, the value and what is expected
    with pytest.raises(ConfigurationExecutionError, match=r"jobs.max_upload_size = 'huge'") as info:
        host_main({}, **settings_for(tmp_path, **{"jobs.max_upload_size": "huge"}))
    assert isinstance(info.value.evalue, ConfigurationError)


def test_host_errors_untouched(app):
    res = app.get("/not-ours", status=404)
    assert res.content_type != "application/json"


def test_health(app):
    body = app.get("/jobs/health").json
    assert body["store"] is True and body["broker"] is True and body["ok"] is True


def test_owners_see_only_their_jobs(tmp_path):
    from pyramid.authorization import ACLHelper, Allow, Everyone

    class Policy:
        def identity(self, request):
            return request.headers.get("X-User")

        def authenticated_userid(self, request):
            return request.headers.get("X-User")

        def permits(self, request, context, permission):
            principals = [Everyone] + ([request.headers["X-User"]] if "X-User" in request.headers else [])
            acl = [(Allow, "root", "jobs.admin"), (Allow, Everyone, "jobs.use")]
            return ACLHelper().permits(type("C", (), {"__acl__": acl})(), principals, permission)

        def remember(self, request, userid, **kw):
            return []

        def forget(self, request, **kw):
            return []

    settings = settings_for(tmp_path, **{"jobs.permission.admin": "jobs.admin"})
    with Configurator(settings=settings) as config:
        config.set_security_policy(Policy())
        config.include("pyramid_jobs")
    app = webtest.TestApp(config.make_wsgi_app())
    ann = app.post("/jobs", upload_files=[("file", "a.txt", b"x")], headers={"X-User": "ann"}).json
    app.get(f"/jobs/{ann['id']}", headers={"X-User": "bob"}, status=404)
    assert app.get("/jobs", headers={"X-User": "bob"}).json["jobs"] == []
    assert app.get(f"/jobs/{ann['id']}", headers={"X-User": "ann"}).json["id"] == ann["id"]
    assert [j["id"] for j in app.get("/jobs", headers={"X-User": "root"}).json["jobs"]] == [ann["id"]]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="posix")
def test_strict_json_renderer_registered(app):
    from pyramid.interfaces import IRendererFactory
    from pyramid.router import Router

    assert isinstance(app.app, Router)  # the app is a real Pyramid router

    assert app.app.registry.queryUtility(IRendererFactory, name="pyramid_jobs.json") is not None
