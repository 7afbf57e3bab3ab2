"""Job records and their state transitions: :func:`open_store` picks the backend from a URL."""
from __future__ import annotations

from .base import (
    ACTIVE,
    ANY,
    CANCELLED,
    ENDED,
    FAILED,
    QUEUED,
    RUNNING,
    STATES,
    SUCCEEDED,
    JobStore,
    StaleAttempt,
    StoreUnavailable,
    new_record,
)

__all__ = ["open_store", "JobStore", "StaleAttempt", "StoreUnavailable", "new_record", "ANY", "ACTIVE",
           "ENDED", "STATES", "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]


def open_store(url: str) -> JobStore:
    """``sqlite:///path/jobs.sqlite``, ``redis://host:port/db`` or ``postgresql://user@host/db``."""
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if url.startswith(("redis:", "rediss:")):
        from .redis import RedisStore

        return RedisStore.from_url(url)
    if url.startswith(("postgresql:", "postgres:")):
        from .postgres import PostgresStore

        return PostgresStore.from_url(url)
    raise ValueError(f"no job store for {url!r}")
