"""A load run: 1,000 small jobs from 50 concurrent clients over HTTP, against pserve with Redis
(as production.ini) and two Celery worker processes. Loopback only, bounded in count and time; it
starts a private Redis, pserve and the workers, and stops them at the end.

Reports submit latency percentiles, jobs per second end to end, and how many of the 1,000 succeeded.

    python -m bench load [--quick]
"""
from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from .common import private_redis, pserve, pserve_ini, worker

CLIENTS = 50
BODY = b"the quick brown fox jumps over the lazy dog\n" * 20


def post(port: int) -> tuple[float, str]:
    boundary = uuid.uuid4().hex
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="n.txt"\r\n\r\n').encode() \
        + BODY + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/jobs", data=data, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as res:
        job = json.load(res)
    return time.perf_counter() - t, job["id"]


def main(argv: list[str]) -> int:
    total = 200 if "--quick" in argv else 1000
    with private_redis() as url, tempfile.TemporaryDirectory(prefix="pj-load-") as d:
        tmp = Path(d)
        ini = tmp / "load.ini"
        port = pserve_ini(ini, "egg:pyramid_jobs#main", {
            "jobs.broker_url": f"{url}/0", "jobs.store_url": f"{url}/1", "jobs.data_dir": f"{tmp}/files",
            "jobs.embedded_worker": "false"}, {"threads": "8"})
        with pserve(ini, port):
            with worker(["-A", "pyramid_jobs.celery_app", "worker", "--ini", str(ini), "-c", "1", "-n", "a@%h"]), \
                    worker(["-A", "pyramid_jobs.celery_app", "worker", "--ini", str(ini), "-c", "1", "-n", "b@%h"]):
                latencies: list[float] = []
                ids: list[str] = []
                lock = threading.Lock()
                per_client = total // CLIENTS

                def client() -> None:
                    for _ in range(per_client):
                        seconds, job_id = post(port)
                        with lock:
                            latencies.append(seconds)
                            ids.append(job_id)

                started = time.perf_counter()
                threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                submitted = time.perf_counter() - started
                states: dict[str, str] = {}
                limit = time.monotonic() + 600
                pending = set(ids)
                while pending and time.monotonic() < limit:
                    for job_id in list(pending):
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/jobs/{job_id}", timeout=30) as res:
                            state = json.load(res)["state"]
                        if state in ("succeeded", "failed", "cancelled"):
                            states[job_id] = state
                            pending.discard(job_id)
                    if pending:
                        time.sleep(0.2)
                elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    ok = sum(1 for s in states.values() if s == "succeeded")
    print(f"{len(ids)} jobs from {CLIENTS} clients: submit latency p50 {q[49] * 1000:.0f} ms, p90 {q[89] * 1000:.0f} "
          f"ms, p99 {q[98] * 1000:.0f} ms; submitted in {submitted:.1f}s; all done in {elapsed:.1f}s = "
          f"{len(ids) / elapsed:.0f} jobs/s end to end; {ok} of {len(ids)} succeeded", flush=True)
    return 0 if ok == len(ids) else 1
