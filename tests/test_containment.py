"""Containment with real workers: a hostile or unlucky job costs at most its own limits, and no
fault outside the job (a stalled store, a full disk, a dead worker) fails or loses it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import webtest
from pyramid.paster import get_app

from pyramid_jobs.runtime import get_runtime
from pyramid_jobs.sweep import SWEPT, sweep
from tests.conftest import REDIS_URL, get_json, post_file, settings_for, wait_for, write_ini

pytestmark = [pytest.mark.worker, pytest.mark.redis]


def redis_ini(tmp_path, prefix, url=None, **extra):
    store = f"{url}/1" if url else f"{REDIS_URL}/15?prefix={prefix}"
    broker = f"{url}/0" if url else f"{REDIS_URL}/14"
    settings = settings_for(tmp_path, **{
        "jobs.broker_url": broker, "jobs.store_url": store,
        "jobs.celery.task_default_queue": f"{prefix}queue",
        "jobs.progress_interval": "0.05", "jobs.heartbeat_interval": "0.5", "jobs.stale_after": "3",
    })
    settings.update(extra)
    return write_ini(tmp_path, settings)


def submit(app, name, body=b"x", **options):
    fields = {"options": json.dumps(options)} if options else {}
    return app.post("/jobs", params=fields, upload_files=[("file", name, body)], status=202).json


def wait_ended(app, job_id, timeout=90):
    return wait_for(lambda: (j := app.get(f"/jobs/{job_id}").json)["state"] in ("succeeded", "failed", "cancelled")
                    and j, timeout=timeout, what=f"job {job_id} to end")


def test_memory_ceiling_fails_the_job_too_large_and_replaces_the_process(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.memory_limit": "600MB"})
    worker = start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    before = worker.children()
    hog = wait_ended(app, submit(app, "a.hog", mb=2000)["id"])
    assert hog["state"] == "failed" and hog["error"] == {
        "code": "too_large", "message": "The file needed more than 600 MB of memory; try a smaller file."}
    small = wait_ended(app, submit(app, "b.hog", mb=10)["id"])
    assert small["state"] == "succeeded", small
    pid = json.loads(get_runtime(app.app.registry).store.result(small["id"]))["pid"]
    assert pid not in before, "the pool replaced the process that ran out of memory"


def test_a_job_that_kills_its_worker_fails_worker_lost_after_max_attempts(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.max_attempts": "3"})
    start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    job = submit(app, "a.die")
    done = wait_ended(app, job["id"], timeout=120)
    assert done["state"] == "failed" and done["attempt"] == 3, done
    assert done["error"]["code"] == "worker_lost" and "died 3 times" in done["error"]["message"]
    fine = wait_ended(app, submit(app, "b.txt", b"still working")["id"])
    assert fine["state"] == "succeeded"


def test_a_store_stall_never_fails_a_running_job(tmp_path, redis_prefix, redis_server, start_worker):
    url = f"redis://127.0.0.1:{redis_server.port}"
    ini = redis_ini(tmp_path, redis_prefix, url=url)
    start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    job = submit(app, "a.slow", ticks=150, tick=0.1)
    wait_for(lambda: app.get(f"/jobs/{job['id']}").json["state"] == "running", timeout=60, what="start")
    os.kill(redis_server.proc.pid, signal.SIGSTOP)  # stalled, no data lost
    time.sleep(12)
    os.kill(redis_server.proc.pid, signal.SIGCONT)
    done = wait_ended(app, job["id"], timeout=120)
    assert done["state"] == "succeeded", done
    assert done["progress"]["percent"] == 100.0


@pytest.fixture
def small_volume(tmp_path):
    """A 4 MB tmpfs as the data volume (root can mount one; elsewhere the test is skipped)."""
    mnt = tmp_path / "volume"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_fails_insufficient_storage_after_max_attempts(tmp_path, redis_prefix, small_volume,
                                                                   start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.data_dir": str(small_volume / "files"),
                                               "jobs.max_attempts": "2"})
    start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    runtime = get_runtime(app.app.registry)
    (small_volume / "ballast").write_bytes(b"\0" * (3 * 1024 * 1024 + 512 * 1024))  # all but full
    job = submit(app, "a.fill", mb=1)
    doc = wait_for(lambda: (d := runtime.store.get(job["id"]))["state"] == "queued" and d["attempt"] == 1 and d,
                   timeout=60, what="the job given back to the queue")
    assert doc["last_error"]["code"] == "insufficient_storage", "a first attempt never fails for the disk"
    assert sweep(runtime, queued_grace=0).requeued == [job["id"]]  # the disk is still full
    done = wait_ended(app, job["id"])
    assert done["state"] == "failed" and done["attempt"] == 2, done
    assert done["error"]["code"] == "insufficient_storage" and "out of storage space" in done["error"]["message"]


def test_a_full_disk_job_runs_again_once_space_is_back(tmp_path, redis_prefix, small_volume, start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.data_dir": str(small_volume / "files"),
                                               "jobs.max_attempts": "3"})
    start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    runtime = get_runtime(app.app.registry)
    ballast = small_volume / "ballast"
    ballast.write_bytes(b"\0" * (3 * 1024 * 1024 + 512 * 1024))
    job = submit(app, "a.fill", mb=1)
    wait_for(lambda: runtime.store.get(job["id"])["state"] == "queued" and runtime.store.get(job["id"])["attempt"],
             timeout=60, what="the job given back")
    ballast.unlink()
    assert sweep(runtime, queued_grace=0).requeued == [job["id"]]
    done = wait_ended(app, job["id"])
    assert done["state"] == "succeeded" and done["attempt"] == 2, done


def test_the_sweep_overtakes_a_backlog_of_jobs(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.sweep_interval": "2"})
    start_worker(ini, concurrency=1)
    app = webtest.TestApp(get_app(str(ini)))
    runtime = get_runtime(app.app.registry)
    jobs = [submit(app, f"{i}.slow", ticks=10, tick=0.3) for i in range(6)]  # about 18 s of backlog
    wait_for(lambda: app.get(f"/jobs/{jobs[0]['id']}").json["state"] == "running", timeout=60, what="start")
    since = time.time()
    wait_for(lambda: (runtime.store.touched(SWEPT) or 0) > since, timeout=10, what="a sweep during the backlog")
    assert app.get(f"/jobs/{jobs[2]['id']}").json["state"] == "queued", "the sweep did not wait for the backlog"
    health = app.get("/jobs/health").json
    assert health["last_sweep_seconds"] < 5 and health["worker_seen_seconds"] < 15


def test_embedded_worker_enforces_the_hard_time_limit_and_the_memory_ceiling(tmp_path):
    """And a job that kills its own process fails ``worker_lost`` (every attempt's child died), while
    pserve runs on."""
    from tests.conftest import Pserve, answers, free_port

    port = free_port()
    ini = write_ini(tmp_path, {
        "jobs.broker_url": f"sqla+sqlite:///{tmp_path}/var/broker.sqlite",
        "jobs.store_url": f"sqlite:///{tmp_path}/var/jobs.sqlite", "jobs.data_dir": str(tmp_path / "var" / "files"),
        "jobs.embedded_worker": "true", "jobs.worker_concurrency": "2", "jobs.time_limit": "2",
        "jobs.memory_limit": "600MB"})
    ini.write_text(ini.read_text().replace("listen = 127.0.0.1:0", f"listen = 127.0.0.1:{port}"))
    base = f"http://127.0.0.1:{port}"
    server = Pserve(ini, tmp_path / "pserve.log")
    try:
        wait_for(lambda: answers(base) or server.proc.poll() is not None, timeout=60, what="pserve")
        started = time.monotonic()
        stuck = post_file(base, "a.stubborn", b"x", {"seconds": 300})  # stuck in C code, no progress calls
        hog = post_file(base, "b.hog", b"x", {"mb": 2000})
        dies = post_file(base, "d.die", b"x")
        ended = {}
        for job in (hog, stuck, dies):
            ended[job["id"]] = wait_for(
                lambda j=job: (d := get_json(f"{base}/jobs/{j['id']}"))["state"] in ("failed", "succeeded") and d,
                timeout=60, what="the embedded worker to stop the job")
        assert ended[stuck["id"]]["error"]["code"] == "time_limit"
        assert time.monotonic() - started < 40, "killed at the hard limit (2 s + 10 s), not after 300 s"
        assert ended[hog["id"]]["error"]["code"] == "too_large"
        assert ended[dies["id"]]["error"]["code"] == "worker_lost" and ended[dies["id"]]["attempt"] == 3
        assert server.proc.poll() is None
        fine = post_file(base, "c.txt", b"the web process is unharmed")
        done = wait_for(lambda: (d := get_json(f"{base}/jobs/{fine['id']}"))["state"] == "succeeded" and d,
                        timeout=30, what="a job after those")
        assert done["progress"]["percent"] == 100.0
    finally:
        server.kill()
