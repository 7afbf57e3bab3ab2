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
