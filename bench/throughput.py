"""Jobs per second end to end against bare Celery, on the same private Redis, two worker processes.

Ours: each job is submitted through the WSGI API in this process (WebTest: multipart upload
parsed, file stored, record written, message published; no HTTP socket), a worker runs the txt
processor on the 43-byte file and stores the result and its artifact. Bare: the same number of
no-op tasks with ``.delay()``, a Redis result backend. On both sides every job is submitted first,
then waited for in submission order (``.get()`` for bare Celery, reading the job record for ours,
which is what a client of the API does); workers run while jobs are submitted, so the clock covers
submit, queue, run and store.

Then scaling: the same with 1, 2 and 4 worker processes, and the workers' own rate without the
submitting client in the way: jobs queued first, then the workers started, rate = jobs / (last
``finished_at`` - first ``started_at``) from the job records.

    python -m bench throughput [--quick]
"""
from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from itertools import count
from pathlib import Path

from pyramid_jobs.runtime import get_runtime

from .common import private_redis, worker

BODY = b"the quick brown fox jumps over the lazy dog"
_runs = count()


def _app(url: str, tmp: Path):
    import webtest
    from pyramid.paster import get_app

    n = next(_runs)
    ini = tmp / f"bench-{n}.ini"
    ini.write_text(f"""[app:main]
use = egg:pyramid_jobs#main
jobs.broker_url = {url}/0
jobs.store_url = {url}/1?prefix=bench{n}:
jobs.data_dir = {tmp}/files
jobs.embedded_worker = false
jobs.progress_interval = 0.5
""")
    app = get_app(str(ini))
    return ini, webtest.TestApp(app), get_runtime(app.registry).store


def _submit(client, n: int) -> list[str]:
    return [client.post("/jobs", upload_files=[("file", f"{i}.txt", BODY)], status=202).json["id"]
            for i in range(n)]


def _wait(store, ids: list[str], timeout: float = 600, poll: float = 0.005) -> list[dict]:
    deadline = time.monotonic() + timeout
    docs = []
    for job_id in ids:
        while (doc := store.get(job_id))["state"] not in ("succeeded", "failed", "cancelled"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {doc['state']}")
            time.sleep(poll)
        docs.append(doc)
    failed = [d["id"] for d in docs if d["state"] != "succeeded"]
    assert not failed, f"{len(failed)} jobs did not succeed"
    return docs


def _worker_args(ini: Path, concurrency: int) -> list[str]:
    return ["-A", "pyramid_jobs.celery_app", "worker", "--ini", str(ini), "-c", str(concurrency), "-P", "prefork"]


def ours(url: str, n: int, concurrency: int, tmp: Path) -> float:
    """End to end: submit n jobs while the workers run, wait for all; jobs per second."""
    ini, client, store = _app(url, tmp)
    with worker(_worker_args(ini, concurrency)):
        _wait(store, _submit(client, 1 + concurrency))  # warm every pool process
        start = time.perf_counter()
        _wait(store, _submit(client, n))
        return n / (time.perf_counter() - start)


def drain(url: str, n: int, concurrency: int, tmp: Path) -> tuple[float, dict]:
    """The workers' own rate: n jobs queued first, then the workers started; from the job records.

    Also what a job costs Redis (broker and store are one server here): commands per job while
    submitting, while the workers run (an upper bound: it includes the workers' start and idle
    polling, and this process's few status reads), and memory per finished job kept in the store.
    """
    import redis

    ini, client, store = _app(url, tmp)
    r = redis.Redis.from_url(url)
    i0 = r.info()
    ids = _submit(client, n)
    i1 = r.info()
    with worker(_worker_args(ini, concurrency)):
        docs = _wait(store, ids, poll=0.25)
    i2 = r.info()

    def ts(s: str) -> float:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

    first = min(ts(d["started_at"]) for d in docs)
    last = max(ts(d["finished_at"]) for d in docs)
    cost = {"submit_cmds": (i1["total_commands_processed"] - i0["total_commands_processed"]) / n,
            "worker_cmds": (i2["total_commands_processed"] - i1["total_commands_processed"]) / n,
            "bytes": (i2["used_memory"] - i0["used_memory"]) / n}
    return n / (last - first), cost


def bare(url: str, n: int, concurrency: int) -> float:
    os.environ["BENCH_REDIS"] = url
    from . import bare_celery

    with worker(["-A", "bench.bare_celery", "worker", "-c", str(concurrency), "-P", "prefork"],
                env={"BENCH_REDIS": url}):
        for r in [bare_celery.noop.delay("warm") for _ in range(1 + concurrency)]:
            r.get(timeout=60)
        start = time.perf_counter()
        results = [bare_celery.noop.delay(BODY.decode()) for _ in range(n)]
        for r in results:
            r.get(timeout=300)
        return n / (time.perf_counter() - start)


def main(argv: list[str]) -> int:
    n = 200 if "--quick" in argv else 1000
    with private_redis() as url, tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        tmp = Path(d)
        b, o = [], []
        for _ in range(1 if "--quick" in argv else 2):  # alternated, so load drift hits both sides
            b.append(bare(url, n, 2))
            o.append(ours(url, n, 2, tmp))
        print(f"{n} jobs, 2 worker processes: bare Celery {' / '.join(f'{x:.0f}' for x in b)} jobs/s, "
              f"pyramid_jobs (submitted through the WSGI API in process) {' / '.join(f'{x:.0f}' for x in o)} "
              f"jobs/s; ratio of the best runs {max(o) / max(b):.2f} (target >= 0.5)", flush=True)
        for c in (1, 2, 4):
            e2e = ours(url, n, c, tmp)
            own, cost = drain(url, n, c, tmp)
            print(f"  {c} worker process(es): end to end {e2e:.0f} jobs/s; workers alone on queued jobs "
                  f"{own:.0f} jobs/s; Redis per job: {cost['submit_cmds']:.0f} commands to submit, "
                  f"<= {cost['worker_cmds']:.0f} to run, {cost['bytes'] / 1000:.1f} kB kept", flush=True)
    return 0
