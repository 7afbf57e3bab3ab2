"""The hook specifications: the plugin author's documentation of every hook.

Implement a hook with ``@pyramid_jobs.hookimpl`` in a module named by an entry point in the
group ``pyramid_jobs``. A misspelled hook stops start-up (``check_pending``).
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("pyramid_jobs")
hookimpl = pluggy.HookimplMarker("pyramid_jobs")


@hookspec
def jobs_register_processors():
    """Return an iterable of :class:`pyramid_jobs.Processor` instances this plugin provides.

    Names must be unique among all installed processors; a clash stops start-up.
    """


@hookspec
def jobs_job_finished(job, registry):
    """Called in the worker once a job has ended (succeeded, failed or cancelled).

    ``job`` is the job record as the API shows it; ``registry`` is the Pyramid registry of the
    application the worker was bootstrapped from (``None`` when run without one). Exceptions
    raised here are logged and do not change the job's outcome.
    """
