"""The job store contract: one set of state transitions, two backends (SQLite and Redis).

Backends implement a handful of primitives, above all an atomic read-modify-write
(``_mutate``); every rule about a job's life is written once here, as a pure function of the
record. The store knows nothing of Pyramid or Celery.
"""
from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterable
from typing import Any

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ENDED = (SUCCEEDED, FAILED, CANCELLED)
ACTIVE = (QUEUED, RUNNING)


class _Any:
    def __repr__(self) -> str:
        return "ANY"


#: ``owner=ANY`` lists every owner's jobs (administrators, sweeps).
ANY: Any = _Any()

#: A mutation function: given the record, return the new record, or None to leave it as it is.
Mutation = Callable[[dict], "dict | None"]


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_record(job_id: str, *, filename: str, size: int, media_type: str, processor: str,
               options: dict | None = None, owner: str | None = None, now: float | None = None,
               secret: list[str] | tuple[str, ...] = ()) -> dict:
    """A job record as it is born: ``queued``, attempt 0, no progress yet. ``secret`` names the
    options that are never shown and are dropped from the record when the job ends."""
    now = time.time() if now is None else now
    return {
        "id": job_id, "state": QUEUED, "filename": filename, "size": size, "media_type": media_type,
        "processor": processor, "options": dict(options or {}), "owner": owner,
        "created": now, "created_at": iso(now), "started_at": None, "finished_at": None,
        "progress": None, "error": None, "artifacts": [], "attempt": 0, "worker": None,
        "heartbeat": None, "enqueued": now, "cancel_requested": False,
        "history": [{"state": QUEUED, "at": iso(now)}],
        "secret_options": sorted(set(secret) & set(options or {})),
    }


def _transition(doc: dict, state: str, now: float) -> None:
    doc["state"] = state
    if state in ENDED:
        doc["finished"] = now
        for name in doc.get("secret_options") or ():  # kept only while a worker may still need them
            (doc.get("options") or {}).pop(name, None)
    doc["history"] = [*doc.get("history", []), {"state": state, "at": iso(now)}][-50:]


def _end(doc: dict, state: str, now: float, *, error: dict | None = None) -> dict:
    doc["finished_at"] = iso(now)
    doc["duration"] = now - (doc.get("started") or now)
    doc["error"] = error
    _transition(doc, state, now)
    return doc


def worker_lost(attempts: int) -> dict:
    """The error of a job whose workers died ``attempts`` times."""
    return {"code": "worker_lost", "message": f"The worker processing this file died {attempts} times; "
                                              "the file is probably too large or damaged."}


DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)
SIZE_BUCKETS = (10e3, 100e3, 1e6, 10e6, 100e6, 1e9)


def stat_changes(old: dict | None, new: dict | None) -> dict[str, float]:
    """What a write changes in the store's running counts (``old`` None: a new job; ``new`` None: a
    deletion), so the metrics scrape reads a few counters instead of every record.

    ``now|state|processor`` are gauges (jobs in each state now); the others only grow:
    ``submitted|processor``, ``ended|state|processor``, the upload size histogram (``size_*``) and
    the run time histogram of succeeded jobs (``duration_*|processor``)."""
    out: dict[str, float] = {}

    def add(key: str, n: float = 1.0) -> None:
        out[key] = out.get(key, 0.0) + n

    if old is not None and (new is None or old["state"] != new["state"]):
        add(f"now|{old['state']}|{old['processor']}", -1)
    if new is None:
        return out
    if old is None or old["state"] != new["state"]:
        add(f"now|{new['state']}|{new['processor']}")
    if old is None:
        size = float(new.get("size") or 0)
        add(f"submitted|{new['processor']}")
        add("size_count")
        add("size_sum", size)
        for bound in SIZE_BUCKETS:
            if size <= bound:
                add(f"size_le|{bound:g}")
    if new["state"] in ENDED and (old is None or old["state"] not in ENDED):
        add(f"ended|{new['state']}|{new['processor']}")
        if new["state"] == SUCCEEDED and new.get("duration") is not None:
            duration = float(new["duration"])
            add(f"duration_count|{new['processor']}")
            add(f"duration_sum|{new['processor']}", duration)
            for bound in DURATION_BUCKETS:
                if duration <= bound:
                    add(f"duration_le|{new['processor']}|{bound:g}")
    return {k: v for k, v in out.items() if v}


class StaleAttempt(Exception):
    """The job moved on (a later attempt, a cancel, a delete): this run must stop writing."""


class JobStore:
    """Job records, results and the transitions between states."""

    # -- primitives a backend provides ----------------------------------------------------------
    def _insert(self, doc: dict) -> None:
        raise NotImplementedError

    def _load(self, job_id: str) -> dict | None:
        raise NotImplementedError

    def _mutate(self, job_id: str, fn: Mutation, result: str | None = None) -> dict | None:
        """Atomically apply ``fn`` (called again after a write conflict, so it must not keep state
        between calls); write ``result`` (JSON text) with the change. Returns the new
        record, the unchanged one when ``fn`` answered None, or None when there is no such job."""
        raise NotImplementedError

    def _load_result(self, job_id: str) -> str | None:
        raise NotImplementedError

    def _remove(self, job_id: str) -> bool:
        raise NotImplementedError

    def _page(self, state: str | None, owner: Any, before: dict | None, limit: int) -> list[dict]:
        raise NotImplementedError

    def _active(self) -> Iterable[dict]:
        raise NotImplementedError

    def _ended_before(self, ts: float) -> Iterable[str]:
        raise NotImplementedError

    def _oldest_created(self, state: str) -> float | None:
        """When the oldest job now in ``state`` was created (read from the state index)."""
        raise NotImplementedError

    def ping(self) -> bool:
        raise NotImplementedError

    def touch(self, name: str, *, now: float | None = None) -> None:
        """Keep the time of an event by name (the last sweep, the last sign of a worker)."""
        raise NotImplementedError

    def touched(self, name: str) -> float | None:
        """The time kept by :meth:`touch`, or None."""
        raise NotImplementedError

    def take_turn(self, name: str, every: float, *, now: float | None = None) -> bool:
        """True for one caller per ``every`` seconds among all processes sharing the store (the
        workers take turns at the sweep)."""
        raise NotImplementedError

    def persistent(self) -> bool:
        """Whether the store keeps its data across a restart of its server."""
        return True

    def stats(self) -> dict[str, float]:
        """The running counts kept by every write (see :func:`stat_changes`)."""
        raise NotImplementedError

    def all(self) -> Iterable[dict]:
        """Every record, in batches (it reads the whole store: for tools, not for requests)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    # -- the contract ---------------------------------------------------------------------------
    def create(self, doc: dict) -> None:
        self._insert(doc)

    def get(self, job_id: str) -> dict | None:
        return self._load(job_id)

    def result(self, job_id: str) -> str | None:
        """The processor's result as JSON text, once the job succeeded."""
        return self._load_result(job_id)

    def list(self, *, state: str | None = None, owner: Any = ANY, before: str | None = None,
             limit: int = 20) -> tuple[list[dict], bool]:
        """Newest first, after the job ``before`` (a cursor); answers (jobs, more_after_these).
        Every backend reads this from an index by owner and state: the cost follows ``limit``,
        not the number of records.

        Raises ``KeyError`` for a cursor that names no job."""
        cursor = None
        if before is not None:
            cursor = self._load(before)
            if cursor is None:
                raise KeyError(before)
        docs = self._page(state, owner, cursor, limit + 1)
        return docs[:limit], len(docs) > limit

    def claim(self, job_id: str, worker: dict, *, takeover: Callable[[dict], bool] = lambda d: False,
              max_attempts: int | None = None, now: float | None = None) -> dict | None:
        """Start a new attempt. A queued job is taken; a running one only if ``takeover`` says its
        attempt is dead. A job that already used ``max_attempts`` attempts fails instead (its
        workers keep dying), as does one whose cancel was asked. Answers the record of the new
        attempt (or of the job ended here), or None when there is nothing to run."""
        now = time.time() if now is None else now
        changed = False

        def fn(doc: dict) -> dict | None:
            nonlocal changed
            changed = False  # a backend may call fn again after a write conflict
            if doc["state"] == RUNNING and not takeover(doc):
                return None
            if doc["state"] not in ACTIVE:
                return None
            changed = True
            if doc.get("cancel_requested"):
                return _end(doc, CANCELLED, now)
            if max_attempts is not None and int(doc.get("attempt", 0)) >= max_attempts:
                return _end(doc, FAILED, now, error=doc.get("last_error") or worker_lost(max_attempts))
            doc["attempt"] = int(doc.get("attempt", 0)) + 1
            doc["worker"] = worker
            doc["heartbeat"] = now
            doc["started"] = now
            doc["started_at"] = iso(now)
            _transition(doc, RUNNING, now)
            return doc

        doc = self._mutate(job_id, fn)
        return doc if changed else None

    def release(self, job_id: str, attempt: int, *, error: dict | None, max_attempts: int | None = None,
                now: float | None = None) -> dict | None:
        """Give the job back to the queue from a failed attempt that was not the file's fault (a
        full disk); the sweep sends it again. Out of attempts, it fails with ``error``. Answers the
        record, or None when this attempt no longer owns the job."""
        now = time.time() if now is None else now

        def change(doc: dict) -> dict:
            if error is not None and max_attempts is not None and attempt >= max_attempts:
                return _end(doc, FAILED, now, error=error)
            doc["worker"] = None
            doc["last_error"] = error
            doc["enqueued"] = now
            _transition(doc, QUEUED, now)
            return doc

        return self._change_attempt(job_id, attempt, change)

    def report(self, job_id: str, attempt: int, progress: dict | None, *, now: float | None = None) -> bool:
        """Record progress (or just a heartbeat when ``progress`` is None) for the given attempt.

        ``percent`` never goes down. Answers True when the job was cancelled; raises
        :class:`StaleAttempt` when this attempt no longer owns the job."""
        now = time.time() if now is None else now

        def change(doc: dict) -> dict:
            doc["heartbeat"] = now
            if progress is not None:
                old = (doc.get("progress") or {}).get("percent") or 0.0
                doc["progress"] = {**progress, "percent": max(old, progress.get("percent") or 0.0)}
            return doc

        doc = self._change_attempt(job_id, attempt, change)
        if doc is None:
            raise StaleAttempt(job_id)
        return bool(doc.get("cancel_requested"))

    def finish(self, job_id: str, attempt: int, state: str, *, result: str | None = None,
               error: dict | None = None, artifacts: list[dict] | None = None, progress: dict | None = None,
               now: float | None = None) -> dict | None:
        """End the attempt in ``state`` (with its last ``progress``, when given). Only the attempt
        that owns the job may finish it: a redelivered attempt's writes never overwrite a later
        one's. Answers the record or None."""
        if state not in ENDED:
            raise ValueError(f"a job ends in one of {ENDED}, not {state!r}")
        now = time.time() if now is None else now

        def change(doc: dict) -> dict:
            doc["artifacts"] = list(artifacts or [])
            if progress is not None:
                doc["progress"] = progress
            if state == SUCCEEDED:
                doc["progress"] = {**(doc.get("progress") or {}), "percent": 100.0}
            return _end(doc, state, now, error=error)

        return self._change_attempt(job_id, attempt, change, result=result if state == SUCCEEDED else None)

    def _change_attempt(self, job_id: str, attempt: int, change: Callable[[dict], dict],
                        result: str | None = None) -> dict | None:
        """Apply ``change`` only while ``attempt`` owns the job (it is running, and no later
        attempt took it over); answers the new record, or None when the attempt lost the job."""
        owned = False

        def fn(doc: dict) -> dict | None:
            nonlocal owned
            owned = doc["state"] == RUNNING and doc.get("attempt") == attempt
            return change(doc) if owned else None

        doc = self._mutate(job_id, fn, result=result)
        return doc if owned else None

    def cancel(self, job_id: str, *, now: float | None = None) -> dict | None:
        """Cancel a queued job at once; ask a running one to stop at its next progress call.
        An ended job is left as it is (the caller sees its state)."""
        now = time.time() if now is None else now

        def fn(doc: dict) -> dict | None:
            if doc["state"] == QUEUED:
                doc["cancel_requested"] = True
                return _end(doc, CANCELLED, now)
            if doc["state"] == RUNNING and not doc.get("cancel_requested"):
                doc["cancel_requested"] = True
                return doc
            return None

        return self._mutate(job_id, fn)

    def delete(self, job_id: str) -> bool:
        return self._remove(job_id)

    def requeue(self, job_id: str, *, now: float | None = None) -> dict | None:
        """Mark a stranded job as enqueued again (a queued one's message was lost, a running one's
        worker died). Answers the record, or None when it no longer needs it."""
        now = time.time() if now is None else now
        active = False

        def fn(doc: dict) -> dict | None:
            nonlocal active
            active = doc["state"] in ACTIVE
            if not active:
                return None
            if doc["state"] == RUNNING:
                doc["worker"] = None
                _transition(doc, QUEUED, now)
            doc["enqueued"] = now
            return doc

        doc = self._mutate(job_id, fn)
        return doc if active else None

    def stranded(self, *, queued_grace: float, dead: Callable[[dict], bool], now: float | None = None) -> list[dict]:
        """Queued jobs not enqueued for ``queued_grace`` seconds, and running jobs whose attempt
        ``dead`` says is dead: the ones whose message or worker was lost."""
        now = time.time() if now is None else now
        out = []
        for doc in self._active():
            if doc["state"] == QUEUED and (doc.get("enqueued") or doc["created"]) < now - queued_grace:
                out.append(doc)
            elif doc["state"] == RUNNING and dead(doc):
                out.append(doc)
        return out

    def expired(self, ttl: float, *, now: float | None = None) -> list[str]:
        """Ids of jobs that ended more than ``ttl`` seconds ago."""
        now = time.time() if now is None else now
        return list(self._ended_before(now - ttl))

    def oldest_queued_age(self, *, now: float | None = None) -> float | None:
        now = time.time() if now is None else now
        created = self._oldest_created(QUEUED)
        return None if created is None else max(0.0, now - created)


class StoreUnavailable(Exception):
    """The store's server does not answer; the web process answers 503 and retries later."""
