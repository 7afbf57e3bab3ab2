"""One log line per job transition, each with the job id, so a job can be followed across processes."""
from __future__ import annotations

import logging

import webtest

from pyramid_jobs.runner import run_job
from pyramid_jobs.runtime import get_runtime
from tests.conftest import settings_for
from tests.hostapp import main as host_main


def test_each_transition_is_logged_with_the_job_id(tmp_path, caplog):
    wsgi = host_main({"here": str(tmp_path)}, **settings_for(tmp_path))
    app = webtest.TestApp(wsgi)
    with caplog.at_level(logging.INFO, logger="pyramid_jobs"):
        job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello")]).json
        run_job(job["id"], get_runtime(wsgi.registry))
        other = app.post("/jobs", upload_files=[("file", "b.txt", b"x")]).json
        app.post(f"/jobs/{other['id']}/cancel")
        app.delete(f"/jobs/{other['id']}")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("pyramid_jobs")]
    mine = [line for line in lines if job["id"] in line]
    assert any("queued" in line for line in mine)
    assert any("running attempt 1" in line for line in mine)
    assert any("succeeded" in line for line in mine)
    theirs = [line for line in lines if other["id"] in line]
    assert any("cancel requested" in line for line in theirs) and any("deleted" in line for line in theirs)
