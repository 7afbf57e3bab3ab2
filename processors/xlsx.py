"""The xlsx processor (being written)."""
from pyramid_jobs import hookimpl


@hookimpl
def jobs_register_processors():
    return []
