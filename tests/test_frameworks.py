"""The jobs WSGI application mounted under /jobs in Flask, Django, FastAPI and Tornado apps: upload, run, result."""
from __future__ import annotations

import pytest
import webtest

from pyramid_jobs.runner import run_job
from pyramid_jobs.runtime import get_runtime
from tests.conftest import settings_for


def roundtrip(post, get, jobs_app) -> None:
    job = post()
    assert job["links"]["self"] == f"/jobs/{job['id']}", "links carry the mount point"
    assert run_job(job["id"], get_runtime(jobs_app.registry)).state == "succeeded"
    assert get(job["links"]["self"])["state"] == "succeeded"
    assert get(job["links"]["result"])["words"] == 2


def test_flask(tmp_path):
    pytest.importorskip("flask")
    from examples.flask_app import create_app

    app = create_app(settings_for(tmp_path))
    client = webtest.TestApp(app)
    assert "Flask" in client.get("/").text
    roundtrip(lambda: client.post("/jobs", upload_files=[("file", "a.txt", b"hello flask")], status=202).json,
              lambda url: client.get(url).json, app.jobs)
    assert client.get("/jobs/ui").status_int == 200
    assert client.get("/jobs/static/jobs.js").status_int == 200


def test_django(tmp_path):
    pytest.importorskip("django")
    from examples.django_project.wsgi import make_application

    app = make_application(settings_for(tmp_path))
    client = webtest.TestApp(app)
    assert "Django" in client.get("/").text
    roundtrip(lambda: client.post("/jobs", upload_files=[("file", "a.txt", b"hello django")], status=202).json,
              lambda url: client.get(url).json, app.jobs)


def test_fastapi(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from examples.fastapi_app import create_app

    app = create_app(settings_for(tmp_path))
    with TestClient(app) as client:
        assert client.get("/").json()["hello"].startswith("FastAPI")

        def post():
            res = client.post("/jobs", files={"file": ("a.txt", b"hello fastapi", "text/plain")})
            assert res.status_code == 202, res.text
            return res.json()

        roundtrip(post, lambda url: client.get(url).json(), app.state.jobs)


def test_tornado(tmp_path):
    pytest.importorskip("tornado")
    import asyncio
    import json
    import threading
    import urllib.request

    from examples.tornado_app import make_app
    from tests.conftest import free_port, post_file

    app = make_app(settings_for(tmp_path))
    port = free_port()
    ready, loops = threading.Event(), []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loops.append(loop)
        app.listen(port, address="127.0.0.1")
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    base = f"http://127.0.0.1:{port}"

    def get(url: str) -> dict:
        with urllib.request.urlopen(base + url, timeout=10) as res:
            return json.loads(res.read())

    try:
        with urllib.request.urlopen(base + "/", timeout=10) as res:
            assert "Tornado" in res.read().decode()
        roundtrip(lambda: post_file(base, "a.txt", b"hello tornado"), get, app.jobs)
        with urllib.request.urlopen(base + "/jobs/ui", timeout=10) as res:
            assert res.status == 200 and "Upload a file" in res.read().decode()
    finally:
        loops[0].call_soon_threadsafe(loops[0].stop)
        thread.join(10)
