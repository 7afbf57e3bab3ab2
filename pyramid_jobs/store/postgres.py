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
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg

from .base import ACTIVE, ENDED, JobStore, Mutation, StoreUnavailable
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
CREATE INDEX IF NOT EXISTS {t}_state ON {t} (state, created);
CREATE INDEX IF NOT EXISTS {t}_owner ON {t} (owner, state, created DESC);
"""


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
            self._conn().execute(_SCHEMA.format(t=table))

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
    def all(self) -> Iterable[dict]:
        return [json.loads(r[0]) for r in self._conn().execute(f"SELECT doc FROM {self.table}")]

    @_guard
    def _insert(self, doc: dict) -> None:
        self._conn().execute(
            f"INSERT INTO {self.table} (id, created, state, owner, finished, doc) VALUES (%s, %s, %s, %s, %s, %s)",
            (doc["id"], doc["created"], doc["state"], doc.get("owner"), doc.get("finished"), json.dumps(doc)),
        )

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
            new = fn(json.loads(row[0]))
            if new is None:
                return json.loads(row[0])
            conn.execute(
                f"UPDATE {self.table} SET state = %s, finished = %s, doc = %s, result = COALESCE(%s, result)"
                " WHERE id = %s",
                (new["state"], new.get("finished"), json.dumps(new), result, job_id),
            )
            return new

    @_guard
    def _load_result(self, job_id: str) -> str | None:
        row = self._conn().execute(f"SELECT result FROM {self.table} WHERE id = %s", (job_id,)).fetchone()
        return row[0] if row else None

    @_guard
    def _remove(self, job_id: str) -> bool:
        return self._conn().execute(f"DELETE FROM {self.table} WHERE id = %s", (job_id,)).rowcount > 0

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
        doc = self.doc
        self._conn.execute(
            f"INSERT INTO {self.store.table} (id, created, state, owner, finished, doc)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (doc["id"], doc["created"], doc["state"], doc.get("owner"), doc.get("finished"), json.dumps(doc)),
        )

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
