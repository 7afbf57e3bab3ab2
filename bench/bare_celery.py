"""The baseline for bench/throughput.py: bare Celery on the same Redis, a no-op task, results in Redis."""
from __future__ import annotations

import os

from celery import Celery

url = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
app = Celery("bare", broker=f"{url}/2", backend=f"{url}/3")
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, worker_hijack_root_logger=False)


@app.task(name="bare.noop")
def noop(data: str) -> int:
    return len(data)
