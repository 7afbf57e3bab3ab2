from __future__ import annotations

import webtest
from prometheus_client.parser import text_string_to_metric_families
from pyramid.config import Configurator

from pyramid_jobs.runner import run_job
from pyramid_jobs.runtime import get_runtime
from tests.conftest import settings_for
from tests.hostapp import main as host_main


def samples(text: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_from_the_store(tmp_path):
    wsgi = host_main({"here": str(tmp_path)}, **settings_for(tmp_path, **{"jobs.metrics": "true"}))
    app = webtest.TestApp(wsgi)
    env = get_runtime(wsgi.registry)
    ok = [app.post("/jobs", upload_files=[("file", f"{i}.txt", b"hello world")]).json for i in range(2)]
    bad = app.post("/jobs", upload_files=[("file", "x.fail", b"x")]).json
    app.post("/jobs", upload_files=[("file", "q.txt", b"queued")])
    for job in (*ok, bad):
        run_job(job["id"], env)
    res = app.get("/jobs/metrics")
    assert res.content_type.startswith("text/plain")
    got = samples(res.text)
    assert got[("pyramid_jobs_submitted_total", (("processor", "txt"),))] == 3
    assert got[("pyramid_jobs_ended_total", (("processor", "txt"), ("state", "succeeded")))] == 2
    assert got[("pyramid_jobs_ended_total", (("processor", "failing"), ("state", "failed")))] == 1
    assert got[("pyramid_jobs_queue_depth", ())] == 1
    assert got[("pyramid_jobs_duration_seconds_count", (("processor", "txt"),))] == 2
    assert got[("pyramid_jobs_upload_bytes_count", ())] == 4


def test_metrics_off_by_default_and_behind_a_permission(tmp_path):
    app = webtest.TestApp(host_main({"here": str(tmp_path)}, **settings_for(tmp_path)))
    app.get("/jobs/metrics", status=404)

    class DenyAll:
        def identity(self, request):
            return None

        def authenticated_userid(self, request):
            return None

        def permits(self, request, context, permission):
            return permission != "jobs.metrics"

    settings = settings_for(tmp_path / "b", **{"jobs.metrics": "true", "jobs.permission.metrics": "jobs.metrics"})
    with Configurator(settings=settings) as config:
        config.set_security_policy(DenyAll())
        config.include("pyramid_jobs")
    denied = webtest.TestApp(config.make_wsgi_app()).get("/jobs/metrics", status=403)
    assert denied.json["error"]["code"] == "forbidden"
