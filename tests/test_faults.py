"""Faults survived: Redis going away and coming back, lost messages, expired jobs, crashed attempts."""
from __future__ import annotations

import json
import time

import pytest
import webtest
from pyramid.paster import get_app

from pyramid_jobs.runner import run_job
from pyramid_jobs.runtime import get_runtime
from pyramid_jobs.sweep import sweep
from tests.conftest import settings_for, wait_for, write_ini

pytestmark = pytest.mark.redis


def test_redis_away_gives_503_and_recovers_without_restart(tmp_path, redis_server):
    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{url}/0",
                                                         "jobs.store_url": f"{url}/1"}))
    app = webtest.TestApp(get_app(str(ini)))
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"x")], status=202).json
    redis_server.stop()
    for res in (app.get(f"/jobs/{job['id']}", status=503), app.get("/jobs", status=503),
                app.post("/jobs", upload_files=[("file", "b.txt", b"y")], status=503)):
        assert res.json["error"]["code"] == "unavailable" and res.headers["Retry-After"]
    assert app.get("/jobs/health", status=503).json["store"] is False
    assert not list((tmp_path / "files").rglob("upload*"))[1:], "a refused upload leaves nothing behind"
    redis_server.start()
    assert app.get(f"/jobs/{job['id']}").json["state"] == "queued"
    assert app.post("/jobs", upload_files=[("file", "c.txt", b"z")], status=202)


def test_lost_messages_are_enqueued_again_and_expired_jobs_removed(tmp_path, redis_server):
    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{url}/0", "jobs.store_url": f"{url}/1",
                                                         "jobs.result_ttl": "1s", "jobs.queued_grace": "0"}))
    wsgi = get_app(str(ini))
    app = webtest.TestApp(wsgi)
    env = get_runtime(wsgi.registry)
    jobs = [app.post("/jobs", upload_files=[("file", f"{i}.txt", b"x")]).json for i in range(3)]
    import redis

    broker = redis.Redis.from_url(f"{url}/0")
    assert broker.llen("pyramid_jobs") == 3
    broker.flushdb()  # a broker restarted without persistence: the messages are gone
    report = sweep(env)
    assert sorted(report.requeued) == sorted(j["id"] for j in jobs)
    assert broker.llen("pyramid_jobs") == 3
    for job in jobs:
        assert run_job(job["id"], env).state == "succeeded"
    time.sleep(1.2)
    report = sweep(env)
    assert sorted(report.expired) == sorted(j["id"] for j in jobs)
    for job in jobs:
        app.get(f"/jobs/{job['id']}", status=404)
    assert not list((tmp_path / "files").rglob("upload"))


def test_redelivered_attempt_starts_clean(tmp_path, redis_server):
    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{url}/0",
                                                         "jobs.store_url": f"{url}/1"}))
    wsgi = get_app(str(ini))
    app = webtest.TestApp(wsgi)
    env = get_runtime(wsgi.registry)
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello")]).json
    # attempt 1 starts, writes half an artifact, and its worker dies
    first = env.store.claim(job["id"], {"host": "elsewhere", "pid": 1})
    half = env.files.attempt_dir(job["id"], first["attempt"])
    half.mkdir(parents=True)
    (half / "text.txt").write_text("half-writ")
    (half / "junk.bin").write_bytes(b"x")
    env.store.requeue(job["id"])  # what the sweep does once the heartbeat is stale
    assert run_job(job["id"], env).state == "succeeded"
    done = app.get(f"/jobs/{job['id']}").json
    assert done["attempt"] == 2 and [a["name"] for a in done["artifacts"]] == ["text.txt"]
    assert app.get(done["artifacts"][0]["url"]).text == "hello"
    assert not half.exists(), "the dead attempt's files are removed"
    app.get(f"/jobs/{job['id']}/artifacts/junk.bin", status=404)
    assert json.loads(env.store.result(job["id"]))["words"] == 1


@pytest.mark.worker
def test_worker_reconnects_after_redis_returns(tmp_path, redis_server, start_worker):
    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{url}/0",
                                                         "jobs.store_url": f"{url}/1"}))
    start_worker(ini)
    app = webtest.TestApp(get_app(str(ini)))
    first = app.post("/jobs", upload_files=[("file", "a.txt", b"before")]).json
    wait_for(lambda: app.get(f"/jobs/{first['id']}").json["state"] == "succeeded", timeout=60, what="first job")
    redis_server.stop()
    time.sleep(3)
    redis_server.start()
    second = app.post("/jobs", upload_files=[("file", "b.txt", b"after")]).json
    wait_for(lambda: app.get(f"/jobs/{second['id']}").json["state"] == "succeeded", timeout=90,
             what="a job after Redis came back")


def test_a_store_without_persistence_is_reported(tmp_path, redis_server, caplog):
    import redis

    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{url}/0", "jobs.store_url": f"{url}/1"}))
    app = webtest.TestApp(get_app(str(ini)))
    assert app.get("/jobs/health").json["store_persistent"] is True  # this server writes an AOF
    redis.Redis.from_url(url).config_set("appendonly", "no")  # and now neither AOF nor RDB
    body = app.get("/jobs/health").json
    assert body["store_persistent"] is False and "store_not_persistent" in [w["code"] for w in body["warnings"]]
    with caplog.at_level("WARNING", logger="pyramid_jobs"):
        get_app(str(ini))
    assert "neither AOF nor RDB" in caplog.text
