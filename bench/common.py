"""Start and stop what the benchmarks need: a private Redis on a free loopback port, Celery workers."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def private_redis() -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is needed for this benchmark (apt-get install redis-server)")
    port = free_port()
    d = tempfile.mkdtemp(prefix="pj-redis-")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(d, ignore_errors=True)


def pserve_ini(path: Path, use: str, settings: dict[str, str], server: dict[str, str] | None = None) -> int:
    """Write an ini whose waitress listens on a free loopback port; answers the port."""
    port = free_port()
    lines = ["[app:main]", f"use = {use}", *(f"{k} = {v}" for k, v in settings.items()), "",
             "[server:main]", "use = egg:waitress#main", f"listen = 127.0.0.1:{port}",
             *(f"{k} = {v}" for k, v in (server or {}).items()), ""]
    path.write_text("\n".join(lines))
    return port


def start_pserve(ini: Path, port: int) -> subprocess.Popen:
    """``pserve ini``, returned once it answers on ``port`` (the caller terminates it)."""
    import http.client

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([str(BIN / "pserve"), str(ini)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pserve exited {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/jobs/processors")
            conn.getresponse().read()
            conn.close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("pserve did not answer within 60 s")


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants, living or reaped (Linux)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    tree, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


@contextmanager
def pserve(ini: Path, port: int) -> Iterator[subprocess.Popen]:
    proc = start_pserve(ini, port)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def worker(args: list[str], env: dict | None = None, log: Path | None = None) -> Iterator[subprocess.Popen]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore", **(env or {})}
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen([str(BIN / "celery"), *args, "--loglevel", "WARNING", "--without-mingle",
                             "--without-gossip"], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        time.sleep(3)
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited {proc.returncode}")
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        if log:
            out.close()


# A fresh, small process starts each measured child and reads its peak RSS with
# getrusage(RUSAGE_CHILDREN) (it has exactly one child). Not the bench process itself: Linux
# carries the parent's RSS high-water mark into a forked child up to its exec, so a child started
# by a big parent (the bench, after building test files or an app) reports at least the parent's
# peak, whatever it did itself.
LAUNCHER = """
import json, resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if out.returncode:
    sys.stderr.write(out.stderr[-4000:])
    sys.exit(out.returncode)
result = json.loads(out.stdout.strip().splitlines()[-1])
result["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(result))
"""


def run_measured(code: str, *args: str, timeout: float = 3600) -> dict:
    """Run ``python -c code args`` in a fresh child; its last stdout line (JSON) plus ``peak_mb``."""
    import json

    out = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-c", code, *args],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])
