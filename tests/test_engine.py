"""The engine in process: the include's deferred build, the runtime utility, outcomes, events, the
rules on attempts, the sweep's housekeeping and what health says about it (no worker, no Redis)."""
from __future__ import annotations

import os
import time

import webtest
from pyramid.config import Configurator

from pyramid_jobs.events import JobFinished
from pyramid_jobs.runner import ENDED_AT_CLAIM, NOTHING_TO_DO, OWNED_ELSEWHERE, RAN, run_job
from pyramid_jobs.runtime import get_runtime
from pyramid_jobs.sweep import SWEPT, WORKER_SEEN, sweep
from tests.conftest import settings_for
from tests.hostapp import Slow


def submit(app, name="a.txt", body=b"hello world", **fields):
    return app.post("/jobs", params=fields, upload_files=[("file", name, body)], status=202).json


def test_settings_changed_after_the_include_are_used(tmp_path):
    with Configurator(settings=settings_for(tmp_path)) as config:
        config.include("pyramid_jobs")
        config.add_settings({"jobs.route_prefix": "/later", "jobs.max_attempts": "5"})
    app = webtest.TestApp(config.make_wsgi_app())
    assert app.get("/later/processors").json["processors"]
    app.get("/jobs/processors", status=404)
    assert get_runtime(app.app.registry).settings.max_attempts == 5


def test_add_jobs_processor_takes_a_dotted_name_and_is_introspectable(tmp_path):
    with Configurator(settings=settings_for(tmp_path)) as config:
        config.include("pyramid_jobs")
        config.add_jobs_processor("tests.hostapp.Slow")
    wsgi = config.make_wsgi_app()
    assert isinstance(get_runtime(wsgi.registry).processors.get("slow"), Slow)
    intr = wsgi.registry.introspector.get("pyramid_jobs processors", "slow")
    assert intr["extensions"] == (".slow",) and intr["plugin"] == "tests"


def test_job_finished_event_reaches_a_host_subscriber(tmp_path):
    seen = []
    with Configurator(settings=settings_for(tmp_path)) as config:
        config.include("pyramid_jobs")
        config.add_subscriber(lambda event: seen.append(event.job), JobFinished)
    app = webtest.TestApp(config.make_wsgi_app())
    job = submit(app)
    assert run_job(job["id"], get_runtime(app.app.registry)).state == "succeeded"
    assert [(j["id"], j["state"]) for j in seen] == [(job["id"], "succeeded")]


def test_outcomes_say_why(app):
    env = app.env
    job = submit(app)
    first = run_job(job["id"], env)
    assert (first.state, first.reason) == ("succeeded", RAN)
    again = run_job(job["id"], env)
    assert (again.state, again.reason) == (None, NOTHING_TO_DO)
    cancelled = submit(app)
    app.post(f"/jobs/{cancelled['id']}/cancel", status=202)
    assert run_job(cancelled["id"], env).reason == NOTHING_TO_DO  # cancelled while queued: ended already
    busy = submit(app)
    env.store.claim(busy["id"], {"host": "elsewhere", "pid": 1})  # a live attempt on another machine
    outcome = run_job(busy["id"], env)
    assert outcome.reason == OWNED_ELSEWHERE and outcome.retry_after == env.settings.stale_after + 1


def test_finished_progress_is_the_last_step_complete_and_cancel_is_reported(app):
    job = submit(app, name="a.slow", options='{"ticks": 3, "tick": 0}')
    run_job(job["id"], app.env)
    done = app.get(f"/jobs/{job['id']}").json
    assert done["progress"] == {"step": 2, "steps": 2, "step_name": "Tick", "current": 3, "total": 3,
                                "percent": 100.0, "message": None}
    queued = submit(app, name="b.slow")
    assert app.post(f"/jobs/{queued['id']}/cancel", status=202).json["cancel_requested"] is True
    assert app.get(f"/jobs/{queued['id']}").json["cancel_requested"] is True


def test_a_job_whose_workers_keep_dying_fails_worker_lost(app):
    env = app.env
    job = submit(app)
    for attempt in (1, 2, 3):  # three workers claimed it an hour ago and died (their heartbeat is stale)
        doc = env.store.claim(job["id"], {"host": "elsewhere", "pid": attempt}, takeover=lambda d: True,
                              max_attempts=3, now=time.time() - 3600)
        assert doc["attempt"] == attempt
    outcome = run_job(job["id"], env)
    assert (outcome.state, outcome.reason) == ("failed", ENDED_AT_CLAIM)
    error = app.get(f"/jobs/{job['id']}").json["error"]
    assert error["code"] == "worker_lost" and "died 3 times" in error["message"]


def test_sweep_removes_files_without_a_record_and_leaves_a_mark(app, tmp_path):
    env = app.env
    kept = submit(app)
    orphan = env.files.upload("ab" * 16)  # a web process killed mid-upload left its part file
    orphan.parent.mkdir(parents=True)
    (orphan.parent / "upload.part").write_bytes(b"half")
    fresh = env.files.upload("cd" * 16)
    fresh.parent.mkdir(parents=True)
    (fresh.parent / "upload.part").write_bytes(b"being written")
    hour_ago = time.time() - 7200
    for path in (orphan.parent, orphan.parent / "upload.part", env.files.job_dir(kept["id"])):
        os.utime(path, (hour_ago, hour_ago))
    report = sweep(env)
    assert report.orphans == ["ab" * 16]
    assert not orphan.parent.exists() and fresh.parent.exists() and env.files.upload(kept["id"]).exists()
    assert time.time() - env.store.touched(SWEPT) < 5


def test_health_fails_when_the_sweep_or_the_workers_went_quiet(app):
    body = app.get("/jobs/health").json
    assert body["ok"] and body["last_sweep_seconds"] is None and {w["code"] for w in body["warnings"]} == {
        "sweep_stale", "no_worker"}
    app.env.store.touch(SWEPT)
    app.env.store.touch(WORKER_SEEN)
    body = app.get("/jobs/health").json
    assert body["ok"] and body["warnings"] == [] and body["last_sweep_seconds"] < 5
    app.env.store.touch(SWEPT, now=time.time() - 3600)
    body = app.get("/jobs/health", status=503).json
    assert [w["code"] for w in body["warnings"]] == ["sweep_stale"] and body["last_sweep_seconds"] >= 3600


def test_the_sweep_has_a_queue_of_its_own(app):
    conf = app.env.celery.conf
    sweep_queue = conf.beat_schedule["pyramid_jobs-sweep"]["options"]["queue"]
    assert sweep_queue == app.env.sweep_queue != conf.task_default_queue
    assert {q.name for q in conf.task_queues} == {conf.task_default_queue, sweep_queue}


def test_a_web_process_never_loads_the_command_line(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT, subprocess_env

    code = ("import sys; from tests.hostapp import main; "
            f"main({{}}, **{settings_for(tmp_path)!r}); print('pyramid_jobs.celery_cli' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=subprocess_env(), capture_output=True, text=True)
    assert out.stdout.split() == ["False"], out.stderr[-2000:]
