from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyramid_jobs.runtime import get_runtime

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("PYRAMID_JOBS_TEST_REDIS", "redis://127.0.0.1:6379")
POSTGRES_URL = os.environ.get("PYRAMID_JOBS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Real files written by others, kept in the repository with their licences (tests/corpus/MANIFEST.tsv)."""
    return CORPUS


@pytest.fixture
def app(tmp_path):
    """WebTest over the test host application (pyramid_jobs plus test processors), a 1 MB upload limit;
    ``app.env`` is the registry's job environment, for running jobs in process."""
    import webtest

    from tests.hostapp import main

    wsgi = main({"here": str(tmp_path)}, **settings_for(tmp_path, **{"jobs.max_upload_size": "1MB"}))
    test_app = webtest.TestApp(wsgi)
    test_app.env = get_runtime(wsgi.registry)
    return test_app


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own for each test, removed afterwards."""
    import redis

    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {REDIS_URL}; .ci/run should have started it")
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"pjtest-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL + "/15")
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


@pytest.fixture
def postgres_url() -> str:
    """The test PostgreSQL (``.ci/run`` starts or installs it); skipped locally when absent."""
    import psycopg

    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=2).close()
    except psycopg.Error as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL does not answer at {POSTGRES_URL}; .ci/run should have started it ({exc})")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}")
    return POSTGRES_URL


@pytest.fixture
def postgres_table(postgres_url: str) -> Iterator[str]:
    """A table of its own for each test, dropped afterwards."""
    import psycopg

    table = f"pjtest_{uuid.uuid4().hex[:8]}"
    yield table
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}, {table}_stats")


def settings_for(tmp_path: Path, **extra: str) -> dict:
    base = {
        "here": str(tmp_path),
        "jobs.broker_url": f"sqla+sqlite:///{tmp_path}/broker.sqlite",
        "jobs.store_url": f"sqlite:///{tmp_path}/jobs.sqlite",
        "jobs.data_dir": str(tmp_path / "files"),
        "jobs.embedded_worker": "false",
    }
    base.update(extra)
    return base


def write_ini(tmp_path: Path, settings: dict, name: str = "app.ini", factory: str = "call:tests.hostapp:main") -> Path:
    lines = ["[app:main]", f"use = {factory}"]
    lines += [f"{k} = {v}" for k, v in settings.items() if k != "here"]
    lines += ["", "[server:main]", "use = egg:waitress#main", "listen = 127.0.0.1:0", ""]
    path = tmp_path / name
    path.write_text("\n".join(lines))
    return path


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONWARNINGS"] = "ignore"
    return env


class WorkerProcess:
    """A real ``celery worker`` subprocess bootstrapped from an ini file."""

    def __init__(self, ini: Path, log: Path, *, concurrency: int = 1, name: str | None = None,
                 extra: tuple[str, ...] = ()):
        self.ini, self.log = ini, log
        self.name = name or f"w{uuid.uuid4().hex[:6]}"
        cmd = [str(BIN / "celery"), "-A", "pyramid_jobs.celery_cli", "worker", "--ini", str(ini),
               "-c", str(concurrency), "-P", "prefork", "-n", f"{self.name}@%h", "--without-mingle",
               "--without-gossip", "--loglevel", "INFO", *extra]
        self.out = open(log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=subprocess_env(), stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            if b" ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready:\n{self.log.read_text()[-3000:]}")

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)
        self.out.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator:
    started: list[WorkerProcess] = []

    def start(ini: Path, **kw) -> WorkerProcess:
        w = WorkerProcess(ini, tmp_path / f"worker-{len(started)}.log", **kw)
        started.append(w)
        w.wait_ready()
        return w

    yield start
    for w in started:
        w.kill()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# -- servers a test starts: pserve on embedded defaults, a private redis-server ----------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_file(base: str, name: str, body: bytes, options: dict | None = None) -> dict:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n".encode() + body + b"\r\n"]
    if options:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="options"\r\n\r\n'
                     f"{json.dumps(options)}\r\n".encode())
    data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{base}/jobs", data=data, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        assert res.status == 202
        return json.load(res)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as res:
        return json.load(res)


class Pserve:
    def __init__(self, ini, log):
        self.log = log
        self.out = open(log, "ab")
        self.proc = subprocess.Popen([str(BIN / "pserve"), str(ini)], cwd=ROOT, env=subprocess_env(),
                                     stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.out.close()


@pytest.fixture
def serve(tmp_path):
    port = free_port()
    settings = {
        "here": str(tmp_path),
        "jobs.broker_url": f"sqla+sqlite:///{tmp_path}/var/broker.sqlite",
        "jobs.store_url": f"sqlite:///{tmp_path}/var/jobs.sqlite",
        "jobs.data_dir": str(tmp_path / "var" / "files"),
        "jobs.embedded_worker": "true",
        "jobs.worker_concurrency": "1",
        "jobs.progress_interval": "0.05",
    }
    ini = write_ini(tmp_path, settings)
    ini.write_text(ini.read_text().replace("listen = 127.0.0.1:0", f"listen = 127.0.0.1:{port}"))
    base = f"http://127.0.0.1:{port}"
    running: list[Pserve] = []

    def start() -> str:
        p = Pserve(ini, tmp_path / "pserve.log")
        running.append(p)
        wait_for(lambda: answers(base) or p.proc.poll() is not None, timeout=60, what="pserve")
        assert p.proc.poll() is None, (tmp_path / "pserve.log").read_text()[-3000:]
        return base

    start.running = running
    yield start
    for p in running:
        p.kill()


def answers(base: str) -> bool:
    try:
        get_json(f"{base}/jobs/processors")
        return True
    except OSError:
        return False


class PrivateRedis:
    def __init__(self, tmp_path, port: int):
        self.port, self.dir = port, tmp_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.skip("redis-server not installed")
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _connects(self.port), timeout=20, what="redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path, free_port())
    server.start()
    yield server
    server.stop()
