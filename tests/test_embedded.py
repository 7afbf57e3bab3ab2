"""``pserve`` on embedded defaults: SQLite broker and store, the worker inside the web process."""
from __future__ import annotations

import json
import os
import signal
import urllib.error

import pytest

from tests.conftest import get_json, post_file, wait_for

pytestmark = pytest.mark.worker


def test_pserve_alone_runs_jobs(serve):
    base = serve()
    job = post_file(base, "notes.txt", "naïve café déjà vu\n".encode("cp1252"))
    seen = wait_for(lambda: (j := get_json(f"{base}/jobs/{job['id']}"))["state"] == "succeeded" and j, timeout=30,
                    what="txt job")
    assert seen["progress"]["percent"] == 100
    result = get_json(f"{base}/jobs/{job['id']}/result")
    assert result["encoding"] == "cp1252" and "naïve" in result["preview"]


def test_job_processes_start_with_the_processors_libraries_loaded(serve):
    """The fork server ran every processor's warm() once: a job's process is its child and finds
    the readers (pandas here) already imported, so no job pays for them."""
    base = serve()
    job = post_file(base, "a.warmth", b"x")
    wait_for(lambda: get_json(f"{base}/jobs/{job['id']}")["state"] == "succeeded", timeout=30, what="warmth job")
    result = get_json(f"{base}/jobs/{job['id']}/result")
    assert result["warmed_in"] == result["parent"] != result["pid"], result
    assert result["pandas_loaded"] is True
    assert result["parent_threads"] == 1, "the fork server stays single-threaded (no BLAS threads either)"


def test_jobs_survive_a_pserve_restart(serve):
    base = serve()
    running = post_file(base, "a.slow", b"x", {"ticks": 40, "tick": 0.1})
    queued = post_file(base, "b.slow", b"x", {"ticks": 2, "tick": 0.01})
    wait_for(lambda: get_json(f"{base}/jobs/{running['id']}")["state"] == "running", timeout=30, what="start")
    serve.running[-1].kill(signal.SIGKILL)
    serve()
    for job in (running, queued):
        done = wait_for(lambda j=job: (d := get_json(f"{base}/jobs/{j['id']}"))["state"] in ("succeeded", "failed")
                        and d, timeout=90, what="job after restart")
        assert done["state"] == "succeeded", done
    assert get_json(f"{base}/jobs/{running['id']}")["attempt"] == 2


def test_a_dead_fork_server_fails_the_health_check_and_loses_no_job(serve):
    base = serve()
    pid = serve.running[-1].proc.pid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        (fork_server,) = f.read().split()  # pserve's only child; jobs' children are the fork server's
    os.kill(int(fork_server), signal.SIGKILL)
    with pytest.raises(urllib.error.HTTPError) as answer:
        wait_for(lambda: get_json(f"{base}/jobs/health") and False, timeout=10, what="health to fail")
    assert answer.value.code == 503
    health = json.load(answer.value)
    assert health["embedded_worker"] is False and "embedded_worker_down" in [w["code"] for w in health["warnings"]]
    job = post_file(base, "a.txt", b"waits for a restart")
    serve.running[-1].kill(signal.SIGKILL)
    serve()
    done = wait_for(lambda: (d := get_json(f"{base}/jobs/{job['id']}"))["state"] == "succeeded" and d, timeout=60,
                    what="the job after a restart")
    assert done["progress"]["percent"] == 100
