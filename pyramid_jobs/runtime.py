"""The jobs runtime: what every part of the add-on shares, built once per process.

One :class:`JobsRuntime` lives in the Pyramid registry as the utility :class:`IJobsRuntime`.
Views, the Celery task, the sweep, the embedded worker and ``pjobs`` all reach the settings, the
store, the processors and the queue through it, so none of them builds its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zope.interface import Interface

from .files import JobFiles
from .plugins import ProcessorSet
from .settings import JobsSettings
from .store import JobStore

#: The Celery task names; a worker of any version of this add-on knows them.
RUN_JOB = "pyramid_jobs.run_job"
SWEEP = "pyramid_jobs.sweep"


class IJobsRuntime(Interface):
    """Marker of the registry utility holding the :class:`JobsRuntime`."""


@dataclass
class JobsRuntime:
    """Settings, store, processors and the queue of one application."""

    #: The typed ``jobs.*`` settings.
    settings: JobsSettings
    #: The job records: the single source of truth for a job's state.
    store: JobStore
    #: The installed processors by name.
    processors: ProcessorSet
    #: The pluggy manager (hooks beside ``jobs_register_processors``).
    plugin_manager: Any = None
    #: The Pyramid registry the runtime was built for (``None`` outside an application).
    registry: Any = None
    #: The Celery application jobs are sent through.
    celery: Any = None
    #: Run each job in a child process of its own (the embedded worker: its thread pool can
    #: neither stop a stuck job nor bound its memory).
    isolated: bool = False
    #: The worker running inside this web process (``jobs.embedded_worker``), once started.
    embedded_worker: Any = None

    @property
    def files(self) -> JobFiles:
        return JobFiles(self.settings.data_dir)

    def enqueue(self, job_id: str, processor: str | None = None) -> None:
        """Publish the job's message (its id is the task id) on its processor's queue (``jobs.queues``,
        else the default one); raises when the broker refuses it."""
        queue = self.settings.queues.get(processor or "", self.celery.conf.task_default_queue)
        self.celery.send_task(RUN_JOB, args=[job_id], task_id=job_id, queue=queue)

    def send_sweep(self) -> None:
        """Ask a worker of the sweep queue to sweep now (beat does this every ``jobs.sweep_interval``)."""
        self.celery.send_task(SWEEP, queue=self.sweep_queue)

    @property
    def sweep_queue(self) -> str:
        """The sweep's own queue, so that a backlog of jobs never delays the recovery of lost ones."""
        return sweep_queue_of(self.celery.conf.task_default_queue)

    def broker_ok(self) -> bool:
        """Whether the broker answers within a couple of seconds."""
        try:
            with self.celery.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception:
            return False
        return True


def sweep_queue_of(job_queue: str) -> str:
    return f"{job_queue}.sweep"


def get_runtime(registry: Any) -> JobsRuntime:
    """The application's runtime; a clear error when ``pyramid_jobs`` was not included."""
    runtime = registry.queryUtility(IJobsRuntime)
    if runtime is None:
        raise LookupError("pyramid_jobs is not configured in this application (config.include('pyramid_jobs'))")
    return runtime


__all__ = ["JobsRuntime", "IJobsRuntime", "get_runtime", "RUN_JOB", "SWEEP"]
