"""The PostgreSQL job store, for hosts whose data already lives in PostgreSQL.

Same contract as SQLite and Redis: one row per job, every transition a short transaction that
locks the row (``SELECT ... FOR UPDATE``), so any number of web processes and workers on any
machines share it. ``postgresql://user@host/db?table=name`` picks the table (default
``pyramid_jobs``), so several apps can share one database.
"""
from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg

from .base import ACTIVE, ENDED, JobStore, Mutation, StoreUnavailable, stat_changes
from .sql import page_query

T = TypeVar("T")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {t} (
    id TEXT PRIMARY KEY,
    created DOUBLE PRECISION NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    finished DOUBLE PRECISION,
    doc TEXT NOT NULL,
    result TEXT
);
CREATE INDEX IF NOT EXISTS {t}_created ON {t} (created DESC, id DESC);
DROP INDEX IF EXISTS {t}_state;
DROP INDEX IF EXISTS {t}_owner;
CREATE INDEX IF NOT EXISTS {t}_state_created ON {t} (state, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS {t}_owner_created ON {t} (owner, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS {t}_owner_state_created ON {t} (owner, state, created DESC, id DESC);
CREATE TABLE IF NOT EXISTS {t}_stats (key TEXT PRIMARY KEY, value DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS {t}_marks (name TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
"""

#: Stats rows are kept from this schema version on; an older table is counted once when opened.
STATS_VERSION = 1


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kw: Any) -> T:
        try:
            return method(*args, **kw)
        except psycopg.OperationalError as exc:
            args[0]._drop()
            raise StoreUnavailable(f"The job store (PostgreSQL) does not answer: {exc}") from exc

    return wrapper


class PostgresStore(JobStore):
    def __init__(self, conninfo: str, table: str = "pyramid_jobs"):
        if not _IDENT.match(table):
            raise ValueError(f"table name {table!r} is not a plain SQL identifier")
        self.conninfo, self.table = conninfo, table
        self._local = threading.local()
        with self._conn().transaction():
            self._conn().execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
            self._conn().execute(_SCHEMA.format(t=table))
            self._count_once()

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """``postgresql://user:pw@host:port/db?table=name`` (other query arguments go to libpq)."""
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        table = query.pop("table", "pyramid_jobs")
        scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
        return cls(urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), "")), table)

    def _conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or self._local.pid != os.getpid():
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                conn.close()
            finally:
                self._local.conn = None

    def close(self) -> None:
        self._drop()

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except psycopg.Error:
            self._drop()
            return False

    @_guard
    def touch(self, name: str, *, now: float | None = None) -> None:
        self._conn().execute(
            f"INSERT INTO {self.table}_marks (name, at) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET at = %s",
            (name, now := time.time() if now is None else now, now))

    @_guard
    def touched(self, name: str) -> float | None:
        row = self._conn().execute(f"SELECT at FROM {self.table}_marks WHERE name = %s", (name,)).fetchone()
        return row[0] if row else None

    @_guard
    def take_turn(self, name: str, every: float, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        row = self._conn().execute(
            f"INSERT INTO {self.table}_marks (name, at) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET at = %s "
            f"WHERE {self.table}_marks.at <= %s RETURNING at", ("turn:" + name, now, now, now - every)).fetchone()
        return row is not None

    @_guard
    def all(self) -> Iterable[dict]:
        return [json.loads(r[0]) for r in self._conn().execute(f"SELECT doc FROM {self.table}")]

    @_guard
    def stats(self) -> dict[str, float]:
        rows = self._conn().execute(f"SELECT key, value FROM {self.table}_stats WHERE key <> 'version'")
        return {k: v for k, v in rows}

    def _count_once(self) -> None:
        """A table written before the stats existed: count its records once (inside the schema lock)."""
        conn = self._conn()
        if conn.execute(f"SELECT 1 FROM {self.table}_stats WHERE key = 'version'").fetchone() is None:
            for (raw,) in conn.execute(f"SELECT doc FROM {self.table}").fetchall():
                add_stats(conn, self.table, stat_changes(None, json.loads(raw)))
            conn.execute(f"INSERT INTO {self.table}_stats (key, value) VALUES ('version', %s)", (STATS_VERSION,))

    @_guard
    def _insert(self, doc: dict) -> None:
        conn = self._conn()
        with conn.transaction():
            insert_row(conn, self.table, doc)

    @_guard
    def _load(self, job_id: str) -> dict | None:
        row = self._conn().execute(f"SELECT doc FROM {self.table} WHERE id = %s", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    @_guard
    def _mutate(self, job_id: str, fn: Mutation, result: str | None = None) -> dict | None:
        conn = self._conn()
        with conn.transaction():
            row = conn.execute(f"SELECT doc FROM {self.table} WHERE id = %s FOR UPDATE", (job_id,)).fetchone()
            if row is None:
                return None
            old = json.loads(row[0])
            new = fn(json.loads(row[0]))
            if new is None:
                return old
            conn.execute(
                f"UPDATE {self.table} SET state = %s, finished = %s, doc = %s, result = COALESCE(%s, result)"
                " WHERE id = %s",
                (new["state"], new.get("finished"), json.dumps(new), result, job_id),
            )
            add_stats(conn, self.table, stat_changes(old, new))
            return new

    @_guard
    def _load_result(self, job_id: str) -> str | None:
        row = self._conn().execute(f"SELECT result FROM {self.table} WHERE id = %s", (job_id,)).fetchone()
        return row[0] if row else None

    @_guard
    def _remove(self, job_id: str) -> bool:
        conn = self._conn()
        with conn.transaction():
            row = conn.execute(f"DELETE FROM {self.table} WHERE id = %s RETURNING doc", (job_id,)).fetchone()
            if row is not None:
                add_stats(conn, self.table, stat_changes(json.loads(row[0]), None))
        return row is not None

    @_guard
    def _oldest_created(self, state: str) -> float | None:
        row = self._conn().execute(f"SELECT MIN(created) FROM {self.table} WHERE state = %s", (state,)).fetchone()
        return row[0] if row else None

    @_guard
    def _page(self, state: str | None, owner: Any, before: dict | None, limit: int) -> list[dict]:
        sql, args = page_query(self.table, state, owner, before, limit, mark="%s")
        return [json.loads(r[0]) for r in self._conn().execute(sql, args)]

    @_guard
    def _active(self) -> Iterable[dict]:
        rows = self._conn().execute(f"SELECT doc FROM {self.table} WHERE state = ANY(%s)", (list(ACTIVE),))
        return [json.loads(r[0]) for r in rows]

    @_guard
    def _ended_before(self, ts: float) -> Iterable[str]:
        rows = self._conn().execute(
            f"SELECT id FROM {self.table} WHERE state = ANY(%s) AND finished < %s", (list(ENDED), ts))
        return [r[0] for r in rows]

    def create_with(self, txn: Any, doc: dict, on_abort: Callable[[], None] = lambda: None) -> None:
        """Create ``doc`` as part of the host's transaction (``transaction.Transaction``, as
        pyramid_tm gives): the row is written when the host commits, and never if it aborts."""
        txn.join(_JoinedCreate(self, doc, on_abort))


def insert_row(conn: psycopg.Connection, table: str, doc: dict) -> None:
    """Insert a new record and count it, in the caller's transaction."""
    conn.execute(
        f"INSERT INTO {table} (id, created, state, owner, finished, doc) VALUES (%s, %s, %s, %s, %s, %s)",
        (doc["id"], doc["created"], doc["state"], doc.get("owner"), doc.get("finished"), json.dumps(doc)),
    )
    add_stats(conn, table, stat_changes(None, doc))


def add_stats(conn: psycopg.Connection, table: str, changes: dict[str, float]) -> None:
    """Add ``changes`` to the running counts, in the caller's transaction."""
    if changes:
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table}_stats (key, value) VALUES (%s, %s) ON CONFLICT (key) "
                            f"DO UPDATE SET value = {table}_stats.value + EXCLUDED.value", list(changes.items()))


class _JoinedCreate:
    """A data manager (the ``transaction`` package's two-phase protocol) that inserts one record.

    It votes last (its sort key), so the host's own resources have committed or voted before the
    job record is written; an abort anywhere leaves no record and calls ``on_abort``."""

    def __init__(self, store: PostgresStore, doc: dict, on_abort: Callable[[], None]):
        self.store, self.doc, self.on_abort = store, doc, on_abort
        self.transaction_manager = None
        self._conn: psycopg.Connection | None = None

    def sortKey(self) -> str:  # noqa: N802 (the protocol's name)
        return "~pyramid_jobs:" + self.doc["id"]

    def tpc_begin(self, txn: Any) -> None:
        self._conn = psycopg.connect(self.store.conninfo, connect_timeout=5)

    def commit(self, txn: Any) -> None:
        insert_row(self._conn, self.store.table, self.doc)

    def tpc_vote(self, txn: Any) -> None:
        pass

    def tpc_finish(self, txn: Any) -> None:
        self._conn.commit()
        self._conn.close()

    def tpc_abort(self, txn: Any) -> None:
        self.abort(txn)

    def abort(self, txn: Any) -> None:
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None
        self.on_abort()
