"""A Prometheus endpoint, ``{prefix}/metrics``: off unless ``jobs.metrics = true``, behind
``jobs.permission.metrics``.

Web processes and workers are separate processes on separate machines, so counters kept in memory
would each see a part. The job store is the single source of truth: it keeps running counts as jobs
change state (in the same transaction as the change, see ``store.base.stat_changes``), and a
scrape reads those counts and the oldest queued job from the state index: its cost does not grow
with the number of records. Counters only grow (expiry and deletes do not lower them); the
queue depth and running gauges follow the jobs now in those states.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from .runtime import get_runtime
from .store.base import DURATION_BUCKETS, SIZE_BUCKETS


class StoreCollector:
    def __init__(self, store: Any):
        self.store = store

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        stats = self.store.stats()
        rows = [(key.split("|"), value) for key, value in sorted(stats.items())]
        submitted = CounterMetricFamily("pyramid_jobs_submitted", "Jobs submitted", labels=["processor"])
        ended = CounterMetricFamily("pyramid_jobs_ended", "Jobs ended, by outcome", labels=["state", "processor"])
        now: Counter = Counter()
        for parts, value in rows:
            if parts[0] == "submitted":
                submitted.add_metric([parts[1]], value)
            elif parts[0] == "ended":
                ended.add_metric([parts[1], parts[2]], value)
            elif parts[0] == "now":
                now[parts[1]] += value
        yield submitted
        yield ended
        depth = GaugeMetricFamily("pyramid_jobs_queue_depth", "Jobs waiting for a worker")
        depth.add_metric([], now["queued"])
        yield depth
        running = GaugeMetricFamily("pyramid_jobs_running", "Jobs running now")
        running.add_metric([], now["running"])
        yield running
        age = GaugeMetricFamily("pyramid_jobs_oldest_queued_seconds", "Age of the oldest queued job")
        age.add_metric([], self.store.oldest_queued_age() or 0.0)
        yield age
        hist = HistogramMetricFamily("pyramid_jobs_duration_seconds", "Run time of succeeded jobs",
                                     labels=["processor"])
        for processor in sorted({p[1] for p, _ in rows if p[0] == "duration_count"}):
            buckets = [(f"{b:g}", stats.get(f"duration_le|{processor}|{b:g}", 0.0)) for b in DURATION_BUCKETS]
            buckets.append(("+Inf", stats[f"duration_count|{processor}"]))
            hist.add_metric([processor], buckets, stats.get(f"duration_sum|{processor}", 0.0))
        yield hist
        upload = HistogramMetricFamily("pyramid_jobs_upload_bytes", "Sizes of the uploads received")
        buckets = [(f"{b:g}", stats.get(f"size_le|{b:g}", 0.0)) for b in SIZE_BUCKETS]
        buckets.append(("+Inf", stats.get("size_count", 0.0)))
        upload.add_metric([], buckets, stats.get("size_sum", 0.0))
        yield upload


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
