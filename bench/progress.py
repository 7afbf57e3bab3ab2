"""The cost of progress: a processor calling ``advance`` 1,000,000 times, next to the same processor
with no progress calls.

The per-item work is parsing one 10-field CSV line into floats (a few microseconds, the smallest
unit a real processor reports on: a row, a page, a block). Against an empty loop any call at all
would look expensive, which says nothing about real processors. Progress goes to a real SQLite job
store through the worker's throttle (``jobs.progress_interval`` 0.5 s).

    python -m bench progress
"""
from __future__ import annotations

import statistics
import tempfile
import time
import uuid

from pyramid_jobs.context import JobContext
from pyramid_jobs.store import new_record, open_store

ITEMS = 1_000_000
LINE = "1.5,2.25,3,4.75,5,6.5,7,8.125,9,10"


def work_without_progress(ctx: JobContext) -> float:
    total = 0.0
    with ctx.step("Rows", total=ITEMS):
        for _ in range(ITEMS):
            total += sum(map(float, LINE.split(",")))
    return total


def work_with_progress(ctx: JobContext) -> float:
    total = 0.0
    with ctx.step("Rows", total=ITEMS) as step:
        for _ in range(ITEMS):
            total += sum(map(float, LINE.split(",")))
            step.advance()
    return total


def run_once(fn, store, tmp: str) -> tuple[float, int]:
    doc = new_record(uuid.uuid4().hex, filename="x", size=0, media_type="x", processor="bench")
    store.create(doc)
    store.claim(doc["id"], {"host": "bench", "pid": 0})
    writes = []

    def sink(snapshot: dict) -> bool:
        writes.append(1)
        return store.report(doc["id"], 1, snapshot)

    ctx = JobContext(tmp, out_dir=tmp, steps=("Rows",), sink=sink, interval=0.5)
    t = time.perf_counter()
    fn(ctx)
    return time.perf_counter() - t, len(writes)


def main(argv: list[str]) -> int:
    rounds = 3 if "--quick" in argv else 9
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/jobs.sqlite")
        run_once(work_with_progress, store, tmp)  # warm up both paths before the clock matters
        run_once(work_without_progress, store, tmp)
        base, ours, writes = [], [], 0
        for r in range(rounds):
            # paired and interleaved, in alternating order, so drift in machine load (other
            # processes share these cores) hits both sides alike
            order = (work_without_progress, work_with_progress)
            for fn in order if r % 2 == 0 else order[::-1]:
                seconds, n = run_once(fn, store, tmp)
                if fn is work_with_progress:
                    ours.append(seconds)
                    writes = n
                else:
                    base.append(seconds)
    ratios = [o / b for o, b in zip(ours, base, strict=True)]
    b, o = statistics.median(base), statistics.median(ours)
    print(f"{rounds} paired rounds: without progress median {b:.3f}s (min {min(base):.3f}), with 1,000,000 "
          f"advance calls median {o:.3f}s (min {min(ours):.3f}); ratio: median of pairs "
          f"{statistics.median(ratios):.3f}, of minimums {min(ours) / min(base):.3f} "
          f"({statistics.median(x - y for x, y in zip(ours, base, strict=True)) / ITEMS * 1e9:.0f} ns per call, "
          f"median of pairs, {writes} store writes)  target <= 1.05", flush=True)
    return 0
