"""A Prometheus endpoint, ``{prefix}/metrics``: off unless ``jobs.metrics = true``, behind
``jobs.permission.metrics``.

Web processes and workers are separate processes on separate machines, so counters kept in memory
would each see a part. The job store is the single source of truth: every scrape reads it and
reports jobs by state and processor, durations, upload sizes and the queue. A scrape reads every
record: scrape every minute or so, and keep ``jobs.result_ttl`` short on very busy services.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from .runtime import get_runtime
from .store import ENDED, QUEUED, RUNNING, SUCCEEDED

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)
SIZE_BUCKETS = (10e3, 100e3, 1e6, 10e6, 100e6, 1e9)


class StoreCollector:
    def __init__(self, store: Any):
        self.store = store

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        now = time.time()
        by_state: Counter = Counter()
        durations: dict[str, list[float]] = {}
        sizes: list[int] = []
        oldest = 0.0
        for doc in self.store.all():
            by_state[(doc["state"], doc["processor"])] += 1
            sizes.append(int(doc.get("size") or 0))
            if doc.get("duration") is not None and doc["state"] == SUCCEEDED:
                durations.setdefault(doc["processor"], []).append(float(doc["duration"]))
            if doc["state"] == QUEUED:
                oldest = max(oldest, now - doc["created"])
        submitted = CounterMetricFamily("pyramid_jobs_submitted", "Jobs submitted", labels=["processor"])
        for processor, count in _sum_by(by_state, 1).items():
            submitted.add_metric([processor], count)
        yield submitted
        ended = CounterMetricFamily("pyramid_jobs_ended", "Jobs ended, by outcome", labels=["state", "processor"])
        for (state, processor), count in sorted(by_state.items()):
            if state in ENDED:
                ended.add_metric([state, processor], count)
        yield ended
        depth = GaugeMetricFamily("pyramid_jobs_queue_depth", "Jobs waiting for a worker")
        depth.add_metric([], sum(c for (s, _), c in by_state.items() if s == QUEUED))
        yield depth
        running = GaugeMetricFamily("pyramid_jobs_running", "Jobs running now")
        running.add_metric([], sum(c for (s, _), c in by_state.items() if s == RUNNING))
        yield running
        age = GaugeMetricFamily("pyramid_jobs_oldest_queued_seconds", "Age of the oldest queued job")
        age.add_metric([], oldest)
        yield age
        hist = HistogramMetricFamily("pyramid_jobs_duration_seconds", "Run time of succeeded jobs",
                                     labels=["processor"])
        for processor, values in sorted(durations.items()):
            hist.add_metric([processor], _buckets(values, DURATION_BUCKETS), sum(values))
        yield hist
        upload = HistogramMetricFamily("pyramid_jobs_upload_bytes", "Sizes of the uploads in the store")
        upload.add_metric([], _buckets(sizes, SIZE_BUCKETS), float(sum(sizes)))
        yield upload


def _sum_by(counter: Counter, index: int) -> dict:
    out: Counter = Counter()
    for key, count in counter.items():
        out[key[index]] += count
    return dict(sorted(out.items()))


def _buckets(values: list[float], bounds: tuple) -> list[tuple[str, int]]:
    out = [(str(b), sum(1 for v in values if v <= b)) for b in bounds]
    out.append(("+Inf", len(values)))
    return out


def metrics_view(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(get_runtime(request.registry).store))
    response = Response(body=generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def includeme(config: Configurator) -> None:
    settings = config.registry.jobs_settings
    if not settings.metrics:
        return
    config.add_route("pyramid_jobs.metrics", f"{settings.route_prefix}/metrics")
    config.add_view(metrics_view, route_name="pyramid_jobs.metrics", request_method="GET",
                    permission=settings.permission_metrics)
