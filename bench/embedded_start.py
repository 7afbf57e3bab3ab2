"""Submit to start on the embedded default: ``pserve`` alone (SQLite broker and store, the worker
inside the web process, each job in a child process), as a newcomer first meets it.

Small txt jobs are submitted over HTTP one at a time, each waited for before the next, so every
one finds the worker idle; the figure is the job record's ``started_at - created_at`` (the time
from the stored upload to the running processor), and the client's own submit-to-succeeded time.

    python -m bench embedded_start [--quick]
"""
from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from .common import pserve, pserve_ini, tree_cpu

BODY = b"the quick brown fox jumps over the lazy dog\n"


def _submit(port: int) -> str:
    boundary = uuid.uuid4().hex
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + BODY + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/jobs", body=data, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    res = conn.getresponse()
    body = json.loads(res.read())
    conn.close()
    return body["id"]


def _get(port: int, job_id: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/jobs/{job_id}")
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def _ts(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main(argv: list[str]) -> int:
    n = 10 if "--quick" in argv else 40
    with tempfile.TemporaryDirectory(prefix="pj-embedded-") as d:
        tmp = Path(d)
        ini = tmp / "embedded.ini"
        port = pserve_ini(ini, "egg:pyramid_jobs#main", {
            "jobs.broker_url": f"sqla+sqlite:///{tmp}/var/broker.sqlite",
            "jobs.store_url": f"sqlite:///{tmp}/var/jobs.sqlite", "jobs.data_dir": f"{tmp}/var/files",
            "jobs.embedded_worker": "true"})
        with pserve(ini, port) as proc:
            starts, ends = [], []
            for i in range(n + 2):
                t0 = time.perf_counter()
                job_id = _submit(port)
                while (job := _get(port, job_id))["state"] not in ("succeeded", "failed"):
                    time.sleep(0.01)
                if i < 2:
                    cpu0 = tree_cpu(proc.pid)
                    continue  # warm-up
                starts.append(_ts(job["started_at"]) - _ts(job["created_at"]))
                ends.append(time.perf_counter() - t0)
            cpu = (tree_cpu(proc.pid) - cpu0) / n
    q = statistics.quantiles(starts, n=10)
    print(f"{n} small jobs on the embedded default: submit to start median {statistics.median(starts) * 1000:.0f} ms, "
          f"p90 {q[-1] * 1000:.0f} ms, max {max(starts) * 1000:.0f} ms (target <= 200 ms); "
          f"submit to succeeded (client) median {statistics.median(ends) * 1000:.0f} ms; "
          f"CPU of pserve and its children {cpu * 1000:.0f} ms per job", flush=True)
    return 0
