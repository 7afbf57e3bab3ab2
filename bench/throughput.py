"""Jobs per second end to end against bare Celery, on the same private Redis, two worker processes.

Ours: submit through the WSGI API in process (upload stored, record written, message published),
a worker runs the txt processor on the 40-byte file and stores the result and its artifact; the
clock stops when the store holds every job as succeeded. Bare: the same number of no-op tasks with
``.delay()`` then ``.get()`` (a Redis result backend). Then ours with 1, 2 and 4 worker processes.

    python -m bench throughput [--quick]
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .common import private_redis, worker

BODY = b"the quick brown fox jumps over the lazy dog"


def ours(url: str, n: int, concurrency: int, tmp: Path) -> float:
    import webtest
    from pyramid.paster import get_app

    ini = tmp / f"bench-{concurrency}.ini"
    ini.write_text(f"""[app:main]
use = egg:pyramid_jobs#main
jobs.broker_url = {url}/0
jobs.store_url = {url}/1?prefix=bench{concurrency}:
jobs.data_dir = {tmp}/files
jobs.embedded_worker = false
jobs.progress_interval = 0.5
""")
    app = get_app(str(ini))
    client = webtest.TestApp(app)
    store = app.registry.jobs_env.store
    with worker(["-A", "pyramid_jobs.celery_app", "worker", "--ini", str(ini), "-c", str(concurrency),
                 "-P", "prefork"]):
        client.post("/jobs", upload_files=[("file", "warm.txt", BODY)], status=202)  # warm the pool
        time.sleep(1)
        start = time.perf_counter()
        ids = [client.post("/jobs", upload_files=[("file", f"{i}.txt", BODY)], status=202).json["id"]
               for i in range(n)]
        pending = set(ids)
        while pending:
            pending = {i for i in pending if store.get(i)["state"] not in ("succeeded", "failed")}
            if pending:
                time.sleep(0.02)
        elapsed = time.perf_counter() - start
        failed = [i for i in ids if store.get(i)["state"] != "succeeded"]
        assert not failed, f"{len(failed)} jobs failed"
    return n / elapsed


def bare(url: str, n: int, concurrency: int) -> float:
    import os

    os.environ["BENCH_REDIS"] = url
    from . import bare_celery

    with worker(["-A", "bench.bare_celery", "worker", "-c", str(concurrency), "-P", "prefork"],
                env={"BENCH_REDIS": url}):
        bare_celery.noop.delay("warm").get(timeout=60)
        start = time.perf_counter()
        results = [bare_celery.noop.delay(BODY.decode()) for _ in range(n)]
        for r in results:
            r.get(timeout=300)
        elapsed = time.perf_counter() - start
    return n / elapsed


def main(argv: list[str]) -> int:
    n = 200 if "--quick" in argv else 1000
    with private_redis() as url, tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        tmp = Path(d)
        b = bare(url, n, 2)
        o = ours(url, n, 2, tmp)
        print(f"{n} jobs, 2 worker processes: bare Celery {b:.0f}/s, pyramid_jobs {o:.0f}/s, ratio {o / b:.2f} "
              f"(target >= 0.5)", flush=True)
        for c in (1, 2, 4):
            print(f"  pyramid_jobs with {c} worker process(es): {ours(url, n, c, tmp):.0f} jobs/s", flush=True)
    return 0
