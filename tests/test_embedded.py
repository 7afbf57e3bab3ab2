"""``pserve`` on embedded defaults: SQLite broker and store, the worker inside the web process."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.request
import uuid

import pytest

from tests.conftest import BIN, ROOT, subprocess_env, wait_for, write_ini

pytestmark = pytest.mark.worker


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
        wait_for(lambda: _answers(base) or p.proc.poll() is not None, timeout=60, what="pserve")
        assert p.proc.poll() is None, (tmp_path / "pserve.log").read_text()[-3000:]
        return base

    start.running = running
    yield start
    for p in running:
        p.kill()


def _answers(base: str) -> bool:
    try:
        get_json(f"{base}/jobs/processors")
        return True
    except OSError:
        return False


def test_pserve_alone_runs_jobs(serve):
    base = serve()
    job = post_file(base, "notes.txt", "naïve café déjà vu\n".encode("cp1252"))
    seen = wait_for(lambda: (j := get_json(f"{base}/jobs/{job['id']}"))["state"] == "succeeded" and j, timeout=30,
                    what="txt job")
    assert seen["progress"]["percent"] == 100
    result = get_json(f"{base}/jobs/{job['id']}/result")
    assert result["encoding"] == "cp1252" and "naïve" in result["preview"]


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
