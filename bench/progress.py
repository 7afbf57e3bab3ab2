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
    rounds = 2 if "--quick" in argv else 5
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/jobs.sqlite")
        base, ours, writes = [], [], 0
        for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
            base.append(run_once(work_without_progress, store, tmp)[0])
            seconds, writes = run_once(work_with_progress, store, tmp)
            ours.append(seconds)
    b, o = statistics.median(base), statistics.median(ours)
    print(f"without progress {b:.3f}s  with 1,000,000 advance calls {o:.3f}s  ratio {o / b:.3f} "
          f"({(o - b) / ITEMS * 1e9:.0f} ns per call, {writes} store writes)  target <= 1.05")
    return 0
