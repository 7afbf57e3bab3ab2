"""The SQLite job store: one file, WAL, a connection per thread and process.

Good for the embedded default and for one machine; every transition runs in a ``BEGIN
IMMEDIATE`` transaction, so concurrent workers on the same file never lose a write.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Any

from .base import ACTIVE, ENDED, JobStore, Mutation, stat_changes
from .sql import page_query

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    state TEXT NOT NULL,
    owner TEXT,
    finished REAL,
    doc TEXT NOT NULL,
    result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created DESC, id DESC);
DROP INDEX IF EXISTS jobs_state;
CREATE INDEX IF NOT EXISTS jobs_state_created ON jobs (state, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_owner_created ON jobs (owner, created DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_owner_state_created ON jobs (owner, state, created DESC, id DESC);
CREATE TABLE IF NOT EXISTS stats (key TEXT PRIMARY KEY, value REAL NOT NULL);
CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, at REAL NOT NULL);
"""

#: Stats rows are kept from this schema version on; an older file is counted once when opened.
STATS_VERSION = 1

_ADD = "INSERT INTO stats (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"


class SQLiteStore(JobStore):
    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        self._count_once()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("sqlite://"):])

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def touch(self, name: str, *, now: float | None = None) -> None:
        self._conn().execute("INSERT OR REPLACE INTO marks (name, at) VALUES (?, ?)",
                             (name, time.time() if now is None else now))

    def touched(self, name: str) -> float | None:
        row = self._conn().execute("SELECT at FROM marks WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def take_turn(self, name: str, every: float, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT at FROM marks WHERE name = ?", ("turn:" + name,)).fetchone()
            taken = row is None or row[0] <= now - every
            if taken:
                conn.execute("INSERT OR REPLACE INTO marks (name, at) VALUES (?, ?)", ("turn:" + name, now))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return taken

    def all(self) -> Iterable[dict]:
        for (raw,) in self._conn().execute("SELECT doc FROM jobs"):
            yield json.loads(raw)

    def stats(self) -> dict[str, float]:
        return {k: v for k, v in self._conn().execute("SELECT key, value FROM stats") if k != "version"}

    def _count_once(self) -> None:
        """A file written before the stats table existed: count its records once."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM stats WHERE key = 'version'").fetchone() is None:
                for (raw,) in conn.execute("SELECT doc FROM jobs").fetchall():
                    self._add_stats(conn, stat_changes(None, json.loads(raw)))
                conn.execute("INSERT INTO stats (key, value) VALUES ('version', ?)", (STATS_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _add_stats(conn: sqlite3.Connection, changes: dict[str, float]) -> None:
        if changes:
            conn.executemany(_ADD, list(changes.items()))

    def _insert(self, doc: dict) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO jobs (id, created, state, owner, finished, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (doc["id"], doc["created"], doc["state"], doc.get("owner"), doc.get("finished"), json.dumps(doc)),
            )
            self._add_stats(conn, stat_changes(None, doc))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _load(self, job_id: str) -> dict | None:
        row = self._conn().execute("SELECT doc FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def _mutate(self, job_id: str, fn: Mutation, result: str | None = None) -> dict | None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT doc FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                conn.execute("COMMIT")
                return None
            old = json.loads(row[0])
            new = fn(json.loads(row[0]))
            if new is None:
                conn.execute("COMMIT")
                return old
            conn.execute(
                "UPDATE jobs SET state = ?, finished = ?, doc = ?, result = COALESCE(?, result) WHERE id = ?",
                (new["state"], new.get("finished"), json.dumps(new), result, job_id),
            )
            self._add_stats(conn, stat_changes(old, new))
            conn.execute("COMMIT")
            return new
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _load_result(self, job_id: str) -> str | None:
        row = self._conn().execute("SELECT result FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    def _remove(self, job_id: str) -> bool:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT doc FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
                self._add_stats(conn, stat_changes(json.loads(row[0]), None))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return row is not None

    def _oldest_created(self, state: str) -> float | None:
        row = self._conn().execute("SELECT MIN(created) FROM jobs WHERE state = ?", (state,)).fetchone()
        return row[0] if row else None

    def _page(self, state: str | None, owner: Any, before: dict | None, limit: int) -> list[dict]:
        sql, args = page_query("jobs", state, owner, before, limit)
        return [json.loads(r[0]) for r in self._conn().execute(sql, args)]

    def _active(self) -> Iterable[dict]:
        marks = ",".join("?" * len(ACTIVE))
        rows = self._conn().execute(f"SELECT doc FROM jobs WHERE state IN ({marks})", ACTIVE).fetchall()
        return [json.loads(r[0]) for r in rows]

    def _ended_before(self, ts: float) -> Iterable[str]:
        marks = ",".join("?" * len(ENDED))
        rows = self._conn().execute(
            f"SELECT id FROM jobs WHERE state IN ({marks}) AND finished < ?", (*ENDED, ts)
        ).fetchall()
        return [r[0] for r in rows]
