"""HTTP submit latency of a 100 kB file, 50 concurrent clients, against pserve with Redis (as in
production.ini), next to a bare Pyramid view on the same server that accepts the same upload and
discards it. Requests alternate between the two so both see the same load.

    python -m bench submit_latency [--quick]
"""
from __future__ import annotations

import http.client
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .common import private_redis, pserve, pserve_ini

BODY = (b"the quick brown fox jumps over the lazy dog\n" * 2400)[:100_000]
CLIENTS = 50


def request(port: int, path: str) -> float:
    boundary = uuid.uuid4().hex
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + BODY + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t = time.perf_counter()
    conn.request("POST", path, body=data, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    res = conn.getresponse()
    res.read()
    elapsed = time.perf_counter() - t
    conn.close()
    if res.status != 202:
        raise RuntimeError(f"{path}: HTTP {res.status}")
    return elapsed


def main(argv: list[str]) -> int:
    per_client = 4 if "--quick" in argv else 20
    with private_redis() as url, tempfile.TemporaryDirectory(prefix="pj-latency-") as d:
        tmp = Path(d)
        ini = tmp / "latency.ini"
        port = pserve_ini(ini, "call:bench.hostapp:main", {
            "jobs.broker_url": f"{url}/0", "jobs.store_url": f"{url}/1", "jobs.data_dir": f"{tmp}/files",
            "jobs.embedded_worker": "false"}, {"threads": "8"})
        with pserve(ini, port):
            request(port, "/discard")  # warm up
            times: dict[str, list[float]] = {"/jobs": [], "/discard": []}
            lock = threading.Lock()

            def client(i: int) -> None:
                for k in range(per_client):
                    path = "/jobs" if (i + k) % 2 == 0 else "/discard"
                    elapsed = request(port, path)
                    with lock:
                        times[path].append(elapsed)

            started = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            total = time.perf_counter() - started
    ours, bare = statistics.median(times["/jobs"]), statistics.median(times["/discard"])
    q = statistics.quantiles
    print(f"{CLIENTS} clients, {sum(map(len, times.values()))} uploads of 100 kB in {total:.1f}s: "
          f"POST /jobs median {ours * 1000:.0f} ms (p90 {q(times['/jobs'], n=10)[-1] * 1000:.0f}), "
          f"bare view median {bare * 1000:.0f} ms (p90 {q(times['/discard'], n=10)[-1] * 1000:.0f}), "
          f"ratio {ours / bare:.2f} (target <= 1.5)", flush=True)
    return 0
