"""The embedded worker: a Celery worker and the sweep inside the web process.

For ``pserve development.ini`` alone on a fresh machine. It consumes from the same broker as
any external ``celery worker`` would (jobs survive a restart in the SQLite broker), runs jobs in
a small thread pool, and sweeps the store at start-up and every ``jobs.sweep_interval`` so that
jobs whose message or worker was lost run again.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from .celery_app import enqueue_function
from .sweep import sweep

log = logging.getLogger("pyramid_jobs.worker")


class EmbeddedWorker:
    def __init__(self, celery: Any, env: Any):
        self.celery = celery
        self.env = env
        self.controller: Any = None
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for target, name in ((self._consume, "pyramid_jobs-worker"), (self._sweep_loop, "pyramid_jobs-sweep")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self.threads.append(t)

    def _consume(self) -> None:
        # the thread pool runs tasks through Celery's current (default) app: make it ours
        self.celery.set_default()
        self.celery.set_current()
        self.controller = self.celery.WorkController(
            hostname=f"embedded-{threading.get_native_id()}@{socket.gethostname()}",
            pool_cls="threads",
            concurrency=self.env.settings.worker_concurrency,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="INFO",
        )
        try:
            self.controller.start()
        except Exception:
            log.exception("the embedded worker stopped")

    def _sweep_loop(self) -> None:
        enqueue = enqueue_function(self.celery)
        first = True
        while not self.stopping.is_set():
            try:
                # at start-up, jobs left queued by a previous run are sent again at once
                report = sweep(self.env, enqueue, queued_grace=0 if first else None)
                if report.requeued:
                    log.info("sweep: enqueued %d stranded job(s) again", len(report.requeued))
            except Exception:
                log.warning("sweep failed; will retry", exc_info=True)
            first = False
            self.stopping.wait(self.env.settings.sweep_interval)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self.threads[:1])

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            try:
                self.controller.stop(in_sighandler=False)
            except Exception:
                log.debug("embedded worker stop", exc_info=True)
