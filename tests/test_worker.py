"""Real ``celery worker`` subprocesses against the real broker and store: SQLite, and Redis."""
from __future__ import annotations

import json
import os
import signal

import pytest
import webtest
from pyramid.paster import get_app

from pyramid_jobs.runtime import get_runtime
from tests.conftest import REDIS_URL, settings_for, wait_for, write_ini

RABBIT_URL = os.environ.get("PYRAMID_JOBS_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672//")

pytestmark = pytest.mark.worker


def sqlite_ini(tmp_path, **extra):
    settings = settings_for(tmp_path, **{"host.marker": "from-the-host-ini", "jobs.progress_interval": "0.05",
                                         "jobs.heartbeat_interval": "0.5", "jobs.stale_after": "3"})
    settings.update(extra)
    return write_ini(tmp_path, settings)


def redis_ini(tmp_path, prefix, **extra):
    db = 14
    settings = settings_for(tmp_path, **{
        "jobs.broker_url": f"{REDIS_URL}/{db}",
        "jobs.store_url": f"{REDIS_URL}/15?prefix={prefix}",
        "jobs.celery.task_default_queue": f"{prefix}queue",
        "host.marker": "from-the-host-ini", "jobs.progress_interval": "0.05",
        "jobs.heartbeat_interval": "0.5", "jobs.stale_after": "3",
    })
    settings.update(extra)
    return write_ini(tmp_path, settings)


def rabbit_ini(tmp_path, prefix, **extra):
    """RabbitMQ as broker (a queue of the test's own), Redis as store."""
    settings = settings_for(tmp_path, **{
        "jobs.broker_url": RABBIT_URL,
        "jobs.store_url": f"{REDIS_URL}/15?prefix={prefix}",
        "jobs.celery.task_default_queue": f"{prefix}queue",
        "jobs.progress_interval": "0.05", "jobs.heartbeat_interval": "0.5", "jobs.stale_after": "3",
    })
    settings.update(extra)
    return write_ini(tmp_path, settings)


@pytest.fixture
def rabbit_prefix(redis_prefix):
    """A Redis prefix and a RabbitMQ queue of the test's own; the queue is deleted afterwards."""
    import kombu

    try:
        with kombu.Connection(RABBIT_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"RabbitMQ does not answer at {RABBIT_URL}; .ci/run should have started it ({exc})")
        pytest.skip(f"no RabbitMQ at {RABBIT_URL}")
    yield redis_prefix
    with kombu.Connection(RABBIT_URL) as conn:
        try:
            conn.default_channel.queue_delete(f"{redis_prefix}queue")
        except Exception:  # never declared: nothing to delete
            pass


def client(ini):
    return webtest.TestApp(get_app(str(ini)))


def submit(app, name, body=b"x", **options):
    fields = {"options": json.dumps(options)} if options else {}
    return app.post("/jobs", params=fields, upload_files=[("file", name, body)], status=202).json


def state_of(app, job_id):
    return app.get(f"/jobs/{job_id}").json


def wait_state(app, job_id, states, timeout=60):
    return wait_for(lambda: (j := state_of(app, job_id))["state"] in states and j, timeout=timeout,
                    what=f"job {job_id} to reach {states}")


def test_sqlite_worker_runs_jobs_in_the_app_environment(tmp_path, start_worker):
    ini = sqlite_ini(tmp_path)
    start_worker(ini)
    app = client(ini)
    txt = submit(app, "a.txt", "héllo wörld\r\n".encode("utf-16"))
    slow = submit(app, "a.slow", ticks=20, tick=0.1)
    seen = []
    done = wait_for(lambda: (j := state_of(app, slow["id"])) and (seen.append(j) or j["state"] == "succeeded") and j,
                    timeout=60, interval=0.05, what="slow job")
    states = [j["state"] for j in seen]
    assert "running" in states and states[-1] == "succeeded"
    running = [j for j in seen if j["state"] == "running" and j["progress"]]
    assert any(j["progress"]["step_name"] == "Tick" and 0 < j["progress"]["current"] < 20 for j in running)
    percents = [j["progress"]["percent"] for j in seen if j["progress"]]
    assert percents == sorted(percents), "percent never goes down"
    result = app.get(f"/jobs/{slow['id']}/result").json
    assert result["host_marker"] == result["current_registry_marker"] == "from-the-host-ini"
    assert app.get(done["artifacts"][0]["url"]).text == "20\n"
    wait_state(app, txt["id"], ["succeeded"])
    result = app.get(f"/jobs/{txt['id']}/result").json
    assert result["encoding"] == "utf-16-le" and result["bom"] and result["newline"] == "CRLF"


def test_pool_processes_start_with_the_processors_libraries_loaded(tmp_path, start_worker):
    """The worker's main process warms the processors before it forks its pool."""
    ini = sqlite_ini(tmp_path)
    start_worker(ini)
    app = client(ini)
    job = submit(app, "a.warmth")
    wait_state(app, job["id"], ["succeeded"])
    result = app.get(f"/jobs/{job['id']}/result").json
    assert result["warmed_in"] == result["parent"] != result["pid"], result
    assert result["pandas_loaded"] is True


def test_worker_without_ini_refuses_to_start(tmp_path):
    import subprocess

    from tests.conftest import BIN, ROOT, subprocess_env

    proc = subprocess.run([str(BIN / "celery"), "-A", "pyramid_jobs.celery_app", "worker"], cwd=ROOT,
                          env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "--ini" in proc.stderr
    bad = tmp_path / "bad.ini"
    bad.write_text("[app:main]\nuse = egg:pyramid_jobs#main\njobs.time_limit = forever\n")
    proc = subprocess.run([str(BIN / "celery"), "-A", "pyramid_jobs.celery_app", "worker", "--ini", str(bad)],
                          cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "jobs.time_limit" in proc.stderr and "forever" in proc.stderr


def test_ini_option_accepted_by_beat_and_schedule_kept_in_data_dir(tmp_path):
    import subprocess

    from tests.conftest import BIN, subprocess_env

    ini = sqlite_ini(tmp_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    proc = subprocess.Popen([str(BIN / "celery"), "-A", "pyramid_jobs.celery_app", "beat", "--ini", str(ini),
                             "--loglevel", "INFO"], cwd=cwd, env=subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    data_dir = tmp_path / "files"
    try:
        wait_for(lambda: proc.poll() is not None or (data_dir.is_dir() and any(
            p.name.startswith("celerybeat-schedule") for p in data_dir.iterdir())), timeout=30, what="beat")
        assert proc.poll() is None, "beat keeps running with --ini"
        assert not list(cwd.iterdir()), "beat wrote its schedule into the directory it was started in"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_time_limit_fails_job_with_code(tmp_path, start_worker):
    ini = sqlite_ini(tmp_path, **{"jobs.time_limit": "2"})
    start_worker(ini)
    app = client(ini)
    cooperative = submit(app, "a.slow", ticks=100, tick=0.1)
    stubborn = submit(app, "a.stubborn", seconds=30)
    for job in (cooperative, stubborn):
        done = wait_state(app, job["id"], ["failed", "succeeded"], timeout=60)
        assert done["state"] == "failed" and done["error"]["code"] == "time_limit", done


def test_cancel_running_job_frees_the_worker(tmp_path, start_worker):
    ini = sqlite_ini(tmp_path)
    start_worker(ini)
    app = client(ini)
    slow = submit(app, "a.slow", ticks=300, tick=0.1)
    wait_state(app, slow["id"], ["running"])
    assert app.post(f"/jobs/{slow['id']}/cancel", status=202).json["cancel_requested"] is True
    done = wait_state(app, slow["id"], ["cancelled"], timeout=20)
    assert done["progress"]["current"] < 300 and done["artifacts"] == []
    after = submit(app, "b.txt", b"next job")
    wait_state(app, after["id"], ["succeeded"], timeout=30)


@pytest.mark.redis
def test_redis_worker_killed_mid_job_is_redelivered(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix)
    first = start_worker(ini, concurrency=1)
    app = client(ini)
    job = submit(app, "a.slow", ticks=30, tick=0.1)
    wait_for(lambda: (j := state_of(app, job["id"]))["state"] == "running" and (j["progress"] or {}).get("current", 0)
             >= 3, timeout=60, what="job to make progress")
    # the pool process running the job dies as an out-of-memory kill would take it
    children = first.children()
    assert children
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    done = wait_state(app, job["id"], ["succeeded", "failed"], timeout=90)
    assert done["state"] == "succeeded" and done["attempt"] == 2, done
    assert [h["state"] for h in get_runtime(app.app.registry).store.get(job["id"])["history"]].count("running") == 2
    assert app.get(f"/jobs/{job['id']}/result").json["ticks"] == 30


@pytest.mark.redis
def test_redis_whole_worker_killed_job_finishes_on_another(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.time_limit": "5", "jobs.visibility_timeout": "20"})
    first = start_worker(ini, concurrency=1, name="first")
    app = client(ini)
    job = submit(app, "a.slow", ticks=30, tick=0.1)
    wait_for(lambda: state_of(app, job["id"])["state"] == "running", timeout=60, what="job to start")
    first.kill(signal.SIGKILL)  # the whole worker, parent and child, at once
    start_worker(ini, concurrency=1, name="second")
    # the message comes back after the visibility timeout, or earlier through the sweep
    from pyramid_jobs.sweep import sweep

    env = get_runtime(app.app.registry)
    report = sweep(env)
    redelivered = state_of(app, job["id"])["attempt"] == 2
    assert report.requeued == [job["id"]] or redelivered, "the sweep sees the dead worker's job"
    done = wait_state(app, job["id"], ["succeeded", "failed"], timeout=90)
    assert done["state"] == "succeeded" and done["attempt"] == 2, done


@pytest.mark.redis
def test_redis_two_workers_share_jobs(tmp_path, redis_prefix, start_worker):
    ini = redis_ini(tmp_path, redis_prefix)
    start_worker(ini, concurrency=1, name="a")
    start_worker(ini, concurrency=1, name="b")
    app = client(ini)
    jobs = [submit(app, f"{i}.slow", ticks=5, tick=0.1) for i in range(4)]
    pids = set()
    for job in jobs:
        wait_state(app, job["id"], ["succeeded"], timeout=60)
        pids.add(app.get(f"/jobs/{job['id']}/result").json["attempt_pid"])
    assert len(pids) == 2, "both workers took jobs"


def test_ini_option_accepted_by_flower(tmp_path):
    import socket
    import subprocess
    import urllib.request

    from tests.conftest import BIN, ROOT, subprocess_env

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ini = write_ini(tmp_path, settings_for(tmp_path, **{"jobs.broker_url": f"{REDIS_URL}/13"}))
    log = tmp_path / "flower.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "celery"), "-A", "pyramid_jobs.celery_app", "flower", "--ini", str(ini),
                                 f"--port={port}", "--address=127.0.0.1"], cwd=ROOT, env=subprocess_env(),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def serves() -> bool:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as res:
                        return res.status == 200
                except OSError:
                    return False

            wait_for(lambda: proc.poll() is not None or serves(), timeout=60, what="flower")
            assert proc.poll() is None, log.read_text()[-2000:]
            assert "Broker: redis://" in log.read_text() and "/13" in log.read_text(), "flower uses the ini's broker"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


@pytest.mark.redis
def test_rabbitmq_worker_killed_mid_job_is_redelivered(tmp_path, rabbit_prefix, start_worker):
    ini = rabbit_ini(tmp_path, rabbit_prefix)
    first = start_worker(ini, concurrency=1, name="rabbit-first")
    app = client(ini)
    job = submit(app, "a.slow", ticks=30, tick=0.1)
    wait_for(lambda: (j := state_of(app, job["id"]))["state"] == "running" and (j["progress"] or {}).get("current", 0)
             >= 3, timeout=60, what="job to make progress")
    first.kill(signal.SIGKILL)  # the whole worker: RabbitMQ requeues the unacknowledged message at once
    start_worker(ini, concurrency=1, name="rabbit-second")
    done = wait_state(app, job["id"], ["succeeded", "failed"], timeout=90)
    assert done["state"] == "succeeded" and done["attempt"] == 2, done
    assert app.get(f"/jobs/{job['id']}/result").json["ticks"] == 30


@pytest.mark.redis
def test_failed_job_is_a_task_failure_for_flower(tmp_path, redis_prefix, start_worker):
    """Flower shows what task events say: a failed job must be a task-failed event, not a success."""
    import threading

    ini = redis_ini(tmp_path, redis_prefix)
    start_worker(ini, concurrency=1, extra=("-E",))
    app = client(ini)
    celery = get_runtime(app.app.registry).celery
    events: dict[str, dict] = {}
    ready = threading.Event()

    def listen() -> None:
        with celery.connection_for_read() as conn:
            receiver = celery.events.Receiver(conn, handlers={
                "task-failed": lambda e: events.setdefault(e["uuid"], e),
                "task-succeeded": lambda e: events.setdefault(e["uuid"], e)})
            ready.set()
            try:
                receiver.capture(limit=None, timeout=60, wakeup=True)
            except Exception:  # the capture's own timeout ends the thread
                pass

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(20)
    failed = submit(app, "bad.fail")
    ok = submit(app, "fine.slow", ticks=1, tick=0.01)
    wait_for(lambda: failed["id"] in events and ok["id"] in events, timeout=60, what="task events")
    assert events[failed["id"]]["type"] == "task-failed"
    assert "JobFailed" in events[failed["id"]]["exception"]
    assert events[ok["id"]]["type"] == "task-succeeded"
    assert state_of(app, failed["id"])["state"] == "failed"


@pytest.mark.redis
def test_dedicated_queue_per_processor(tmp_path, redis_prefix, start_worker):
    """jobs.queues sends slow jobs to a queue of their own; a worker started with -Q takes only those."""
    heavy = f"{redis_prefix}heavy"
    ini = redis_ini(tmp_path, redis_prefix, **{"jobs.queues": f"slow stubborn = {heavy}"})
    default = start_worker(ini, concurrency=1, name="default",
                           extra=("-Q", f"{redis_prefix}queue,{redis_prefix}queue.sweep"))
    app = client(ini)
    store = get_runtime(app.app.registry).store
    slow = submit(app, "a.slow", ticks=2, tick=0.01)
    other = submit(app, "b.fail")
    # only the default worker runs: the other processor's job runs, the slow one waits on its queue
    wait_state(app, other["id"], ["failed"])
    assert store.get(other["id"])["worker"]["pid"] in default.children()
    assert state_of(app, slow["id"])["state"] == "queued"
    dedicated = start_worker(ini, concurrency=1, name="heavy", extra=("-Q", heavy))
    assert wait_state(app, slow["id"], ["succeeded", "failed"])["state"] == "succeeded"
    assert store.get(slow["id"])["worker"]["pid"] in dedicated.children()


def test_queues_setting_is_checked():
    from pyramid_jobs.errors import ConfigurationError
    from pyramid_jobs.settings import parse_settings

    parsed = parse_settings({"jobs.queues": "pdf xlsx = heavy\nimage = ocr"}, here="/tmp")
    assert parsed.queues == {"pdf": "heavy", "xlsx": "heavy", "image": "ocr"}
    with pytest.raises(ConfigurationError, match="jobs.queues"):
        parse_settings({"jobs.queues": "pdf heavy"}, here="/tmp")
