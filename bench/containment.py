"""What a hostile job costs: peak memory of the process running it, and time until the job ends.

Three jobs, each alone, on production's shape (a private Redis, one ``celery worker`` with one
pool process) and on the embedded default (``pserve`` alone, SQLite):

- ``hog``: allocates 3 GB in 100 MB blocks (a parser gone wild), against ``jobs.memory_limit`` 2GB;
- ``die``: kills the process running it (a crash in C code, the OOM killer), ``jobs.max_attempts`` 3;
- ``stuck`` (embedded only): sleeps in C for 120 s with no progress call, ``jobs.time_limit`` 5 s.

Peak memory is the largest resident size seen in any process of the worker (or of pserve and its
children), sampled every 20 ms. A job still running after 60 s is reported as such.

    python -m bench containment
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from pyramid.config import Configurator

from pyramid_jobs import Processor

from .common import BIN, ROOT, free_port, private_redis

HERE = str(Path(__file__).resolve().parent)
TIMEOUT = 60.0


class Hog(Processor):
    name, extensions, steps = "hog", (".hog",), ("Eat",)

    def process(self, ctx: Any) -> dict:
        blocks = []
        with ctx.step("Eat", total=30) as step:
            for _ in range(30):
                blocks.append(bytearray(100 * 1024 * 1024))
                blocks[-1][::4096] = b"x" * len(blocks[-1][::4096])
                step.advance()
        return {"mb": 100 * len(blocks)}


class Die(Processor):
    name, extensions, steps = "die", (".die",), ("Die",)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Die"):
            os.kill(os.getpid(), signal.SIGKILL)
        return {}


class Stuck(Processor):
    name, extensions, steps = "stuck", (".stuck",), ("Sleep",)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Sleep"):
            time.sleep(120)
        return {}


def main_app(global_config: dict, **settings: Any) -> Any:
    with Configurator(settings=settings) as config:
        config.include("pyramid_jobs")
        for processor in (Hog(), Die(), Stuck()):
            config.add_jobs_processor(processor)
    return config.make_wsgi_app()


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _post(base: str, name: str) -> str:
    boundary = uuid.uuid4().hex
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\nx\r\n'
            f"--{boundary}--\r\n").encode()
    req = urllib.request.Request(f"{base}/jobs", data=data, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.load(res)["id"]


def _get(base: str, job_id: str) -> dict:
    try:
        with urllib.request.urlopen(f"{base}/jobs/{job_id}", timeout=30) as res:
            return json.load(res)
    except OSError:
        return {"state": "unknown: the web process died", "attempt": "?", "error": None}


def _watch(base: str, job_id: str, root: int) -> str:
    started, peak = time.monotonic(), 0.0
    while time.monotonic() - started < TIMEOUT:
        peak = max(peak, max((_rss_mb(p) for p in _tree(root)), default=0.0))
        job = _get(base, job_id)
        if job["state"] in ("succeeded", "failed", "cancelled") or job["state"].startswith("unknown"):
            error = (job["error"] or {}).get("code", "")
            return (f"{job['state']} {error} after {time.monotonic() - started:.1f} s, attempt {job['attempt']}, "
                    f"peak {peak:.0f} MB")
        time.sleep(0.02)
    return f"still {job['state']} after {TIMEOUT:.0f} s (attempt {job['attempt']}), peak {peak:.0f} MB"


def _env() -> dict:
    # a copy run as a top-level module (to measure another checkout) needs its own folder on the path
    paths = [str(ROOT)] if "." in __name__ else [HERE, str(ROOT)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONWARNINGS": "ignore"}


def _serve(tmp: Path, settings: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    ini = tmp / f"app-{port}.ini"
    tmp.mkdir(parents=True, exist_ok=True)
    lines = ["[app:main]", f"use = call:{__name__}:main_app", *(f"{k} = {v}" for k, v in settings.items()),
             "", "[server:main]", "use = egg:waitress#main", f"listen = 127.0.0.1:{port}", ""]
    ini.write_text("\n".join(lines))
    proc = subprocess.Popen([str(BIN / "pserve"), str(ini)], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/jobs/processors", timeout=2).read()
            return proc, base
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("pserve did not answer")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def production(tmp: Path) -> None:
    with private_redis() as url:
        settings = {"jobs.broker_url": f"{url}/0", "jobs.store_url": f"{url}/1", "jobs.data_dir": f"{tmp}/files",
                    "jobs.embedded_worker": "false", "jobs.memory_limit": "2GB", "jobs.max_attempts": "3"}
        web, base = _serve(tmp, settings)
        ini = next(tmp.glob("app-*.ini"))
        log = open(tmp / "worker.log", "wb")
        worker = subprocess.Popen([str(BIN / "celery"), "-A", "pyramid_jobs.celery_app", "worker", "--ini", str(ini),
                                   "-c", "1", "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
                                  cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            time.sleep(8)
            for name in ("a.hog", "b.die"):
                print(f"  celery worker, {name.split('.')[1]}: {_watch(base, _post(base, name), worker.pid)}",
                      flush=True)
        finally:
            _stop(worker)
            _stop(web)
            log.close()
            if worker.returncode not in (None, -signal.SIGKILL):
                print((tmp / "worker.log").read_text()[-2000:])


def embedded(tmp: Path) -> None:
    settings = {"jobs.broker_url": f"sqla+sqlite:///{tmp}/var/broker.sqlite",
                "jobs.store_url": f"sqlite:///{tmp}/var/jobs.sqlite", "jobs.data_dir": f"{tmp}/var/files",
                "jobs.embedded_worker": "true", "jobs.memory_limit": "2GB", "jobs.max_attempts": "3"}
    for name, time_limit in (("a.hog", "120"), ("b.stuck", "5"), ("c.die", "120")):
        web, base = _serve(tmp, {**settings, "jobs.time_limit": time_limit})
        try:
            print(f"  embedded, {name.split('.')[1]}: {_watch(base, _post(base, name), web.pid)}", flush=True)
        finally:
            _stop(web)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="pj-contain-", dir=os.environ.get("BENCH_KEEP")) as d:
        production(Path(d) / "production")
        embedded(Path(d) / "embedded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
