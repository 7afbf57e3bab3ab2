"""The embedded worker: a Celery worker and the sweep inside the web process.

For ``pserve development.ini`` alone on a fresh machine. It consumes from the same broker as
any external ``celery worker`` would (jobs survive a restart in the SQLite broker), takes jobs in
a small thread pool and runs each in a child process of its own (:mod:`pyramid_jobs.isolation`:
the same memory ceiling and hard time limit as a production worker; the children come from a
fork server started before any of the worker's threads), and sweeps the store at
start-up and every ``jobs.sweep_interval`` so that jobs whose message or worker was lost run again.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from celery import bootsteps

from .forkserver import ForkServer
from .isolation import start_fork_server
from .runtime import JobsRuntime
from .sweep import housekeeping, sweep

log = logging.getLogger("pyramid_jobs.worker")


#: Seconds between two polls of a polling broker (kombu's SQL transport waits 1 s by default).
POLL = 0.05


class _FastPoll(bootsteps.StartStopStep):
    """The embedded worker polls its (SQLite) broker every :data:`POLL` seconds instead of every
    second, so that a job submitted to this web process starts at once; an idle poll is one
    cheap query."""

    requires = {"celery.worker.consumer.connection:Connection"}

    def start(self, c: Any) -> None:
        transport = c.connection.transport
        if getattr(transport, "polling_interval", None):
            transport.polling_interval = POLL


class EmbeddedWorker:
    def __init__(self, runtime: JobsRuntime):
        self.runtime = runtime
        self.controller: Any = None
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.forks: ForkServer | None = None

    def start(self) -> None:
        self.forks = start_fork_server(self.runtime)  # first: it must be forked while no thread runs
        for target, name in ((self._consume, "pyramid_jobs-worker"), (self._sweep_loop, "pyramid_jobs-sweep")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self.threads.append(t)

    def _consume(self) -> None:
        celery = self.runtime.celery
        # the thread pool runs tasks through Celery's current (default) app: make it ours
        celery.set_default()
        celery.set_current()
        if _FastPoll not in celery.steps["consumer"]:
            celery.steps["consumer"].add(_FastPoll)
        self.controller = celery.WorkController(
            hostname=f"embedded-{threading.get_native_id()}@{socket.gethostname()}",
            pool_cls="threads",
            concurrency=self.runtime.settings.worker_concurrency,
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
        try:  # at start-up, jobs left queued or running by a previous run are sent again at once
            report = sweep(self.runtime, queued_grace=0)
            if report.requeued:
                log.info("sweep: enqueued %d stranded job(s) again", len(report.requeued))
        except Exception:
            log.warning("start-up sweep failed; the next one will retry", exc_info=True)
        housekeeping(self.runtime, self.stopping)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self.threads[:1]) and self.forks is not None and self.forks.alive

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            try:
                self.controller.stop(in_sighandler=False)
            except Exception:
                log.debug("embedded worker stop", exc_info=True)
        if self.forks is not None:
            self.forks.stop()
