"""Pyramid events of the add-on, for a host to subscribe to with ``config.add_subscriber``.

    def on_finished(event):
        if event.job["state"] == "failed":
            notify_someone(event.job["id"], event.job["error"])

    config.add_subscriber(on_finished, "pyramid_jobs.events.JobFinished")

Subscribers run in the worker that ran the job; their exceptions are logged and never change
the job's outcome.
"""
from __future__ import annotations

from typing import Any


class JobFinished:
    """A job ended (succeeded, failed or cancelled)."""

    def __init__(self, job: dict, registry: Any):
        #: The job as the API shows it (without links).
        self.job = job
        #: The Pyramid registry of the application the worker was bootstrapped from.
        self.registry = registry
