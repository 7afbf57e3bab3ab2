"""A page of the job list and a metrics read among many records, against a full read of the store.

Fills a SQLite store and a Redis store (db 15, a prefix of its own, removed after) with N jobs of
two owners, all ended but the oldest (queued), then times ``list(state="queued", limit=1)``,
``list(owner=..., state="succeeded", limit=1)`` and ``stats()`` (median of 20) next to the full
read the list and the metrics scrape used to make (``all()`` filtered in Python).

    python -m bench list_index [--quick]        (N = 50,000; --quick: 5,000)
"""
from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable

from pyramid_jobs.store import new_record, open_store

REDIS = "redis://127.0.0.1:6379/15"


def fill(store, n: int) -> None:
    for i in range(n):
        doc = new_record(uuid.uuid4().hex, filename="a.txt", size=10, media_type="text/plain", processor="txt",
                         owner="ann" if i % 2 else "bob", now=1000.0 + i)
        if i:
            doc.update(state="succeeded", finished=2000.0 + i, duration=0.5)
        store.create(doc)


def median_ms(fn: Callable[[], object], runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(name: str, store, n: int) -> None:
    started = time.perf_counter()
    fill(store, n)
    print(f"   {name}: {n} records filled in {time.perf_counter() - started:.0f}s", flush=True)
    cases = {
        "list state=queued limit=1": lambda: store.list(state="queued", limit=1),
        "list owner=ann state=succeeded limit=1": lambda: store.list(owner="ann", state="succeeded", limit=1),
        "stats (metrics scrape)": lambda: store.stats(),
        "baseline: full read, filtered": lambda: [d for d in store.all() if d["state"] == "queued"][:1],
    }
    for label, fn in cases.items():
        runs = 3 if label.startswith("baseline") else 20
        print(f"   {name}: {label:40s} {median_ms(fn, runs):9.2f} ms", flush=True)


def main(args: list[str]) -> int:
    n = 5_000 if "--quick" in args else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/jobs.sqlite")
        measure("sqlite", store, n)
        store.close()
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    store = open_store(f"{REDIS}?prefix={prefix}")
    try:
        measure("redis", store, n)
    finally:
        for key in store.r.scan_iter(prefix + "*", count=1000):
            store.r.delete(key)
        store.close()
    return 0
