"""The Redis job store: shared by any number of web processes and workers on any machines.

Records are JSON strings under ``{prefix}job:{id}``; a sorted set orders them by creation, a
set holds the active (queued, running) ones for the sweep, and a sorted set the ended ones by
end time for expiry. Sorted sets by creation per state, per owner and per owner and state
(``{prefix}by:...``) let a page of the list read only its own records, and a hash
(``{prefix}stats``) keeps the running counts the metrics report. Every transition is an
optimistic transaction (WATCH/MULTI) on the record that updates all of them with it.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis

from .base import ACTIVE, ANY, ENDED, JobStore, Mutation, StoreUnavailable, stat_changes

#: The indexes and stats are kept from this version on; an older store is indexed once when opened.
STATS_VERSION = 1

T = TypeVar("T")


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kw: Any) -> T:
        try:
            return method(*args, **kw)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"The job store (Redis) does not answer: {exc}") from exc

    return wrapper


#: Compare and swap: set KEYS[1] to ARGV[2] if it still holds ARGV[1], then run the index
#: commands that follow, each as a count of parts and the parts. Answers 1, or 0 on a conflict.
_SWAP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1
"""


#: Take a turn: set KEYS[1] to ARGV[1] (now) unless it holds a time after ARGV[2] (now - every).
_TURN = """
local at = redis.call('GET', KEYS[1])
if at and tonumber(at) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


class _Ops:
    """Records the index commands :meth:`RedisStore._index` gives a pipeline, for the swap script."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def _add(self, *parts: Any) -> None:
        self.args += [len(parts), *parts]

    def set(self, key: str, value: str) -> None:
        self._add("SET", key, value)

    def sadd(self, key: str, *members: str) -> None:
        self._add("SADD", key, *members)

    def srem(self, key: str, *members: str) -> None:
        self._add("SREM", key, *members)

    def zadd(self, key: str, mapping: dict) -> None:
        self._add("ZADD", key, *(x for member, score in mapping.items() for x in (repr(float(score)), member)))

    def zrem(self, key: str, *members: str) -> None:
        self._add("ZREM", key, *members)

    def hincrbyfloat(self, key: str, field: str, amount: float) -> None:
        self._add("HINCRBYFLOAT", key, field, repr(float(amount)))


class RedisStore(JobStore):
    def __init__(self, client: redis.Redis, prefix: str = "pyramid_jobs:"):
        self.r = client
        self.prefix = prefix
        self.k_index = prefix + "jobs"
        self.k_active = prefix + "active"
        self.k_ended = prefix + "ended"
        self.k_stats = prefix + "stats"
        self._counted = False
        self._swap = client.register_script(_SWAP)
        self._turn = client.register_script(_TURN)

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        """``redis://host:port/db?prefix=name:`` (the prefix keeps several apps apart in one db)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = query.pop("prefix", ["pyramid_jobs:"])[0]
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        clean = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
        client = redis.Redis.from_url(clean, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)
        return cls(client, prefix)

    def _k(self, job_id: str) -> str:
        return f"{self.prefix}job:{job_id}"

    def _kr(self, job_id: str) -> str:
        return f"{self.prefix}result:{job_id}"

    def ping(self) -> bool:
        try:
            return bool(self.r.ping())
        except redis.RedisError:
            return False

    @_guard
    def touch(self, name: str, *, now: float | None = None) -> None:
        self.r.set(f"{self.prefix}mark:{name}", repr(time.time() if now is None else now))

    @_guard
    def touched(self, name: str) -> float | None:
        raw = self.r.get(f"{self.prefix}mark:{name}")
        return float(raw) if raw is not None else None

    @_guard
    def take_turn(self, name: str, every: float, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return bool(self._turn(keys=[f"{self.prefix}turn:{name}"], args=[repr(now), repr(now - every)]))

    def persistent(self) -> bool:
        """AOF or RDB snapshots on: without either, a restart of Redis loses every job."""
        try:
            info = self.r.info("persistence")
            save = self.r.config_get("save").get("save", "")
        except redis.ResponseError:  # CONFIG is disabled on some managed services: trust them
            return True
        except redis.RedisError:
            return True
        return bool(info.get("aof_enabled")) or bool(str(save).strip())

    def close(self) -> None:
        self.r.close()

    def _by(self, state: str | None, owner: Any) -> str:
        """The sorted set (by creation) of the jobs in ``state`` of ``owner`` (None/ANY: all of them)."""
        if owner is ANY:
            return self.k_index if state is None else f"{self.prefix}by:s:{state}"
        who = json.dumps(owner)
        return f"{self.prefix}by:o:{who}" if state is None else f"{self.prefix}by:os:{who}:{state}"

    def _index(self, pipe: Any, doc: dict | None, old: dict | None = None) -> None:
        """Queue the index and stats updates of a write from ``old`` to ``doc`` (None: deleted)."""
        current = doc or old
        job_id, created = current["id"], current["created"]
        if old is not None and (doc is None or old["state"] != doc["state"]):
            pipe.zrem(self._by(old["state"], ANY), job_id)
            pipe.zrem(self._by(old["state"], old.get("owner")), job_id)
        if doc is None:
            pipe.zrem(self._by(None, old.get("owner")), job_id)
        else:
            if old is None:
                pipe.zadd(self._by(None, doc.get("owner")), {job_id: created})
            if old is None or old["state"] != doc["state"]:
                pipe.zadd(self._by(doc["state"], ANY), {job_id: created})
                pipe.zadd(self._by(doc["state"], doc.get("owner")), {job_id: created})
            if doc["state"] in ACTIVE:
                pipe.sadd(self.k_active, job_id)
            else:
                pipe.srem(self.k_active, job_id)
                pipe.zadd(self.k_ended, {job_id: doc.get("finished") or doc["created"]})
        for key, n in stat_changes(old, doc).items():
            pipe.hincrbyfloat(self.k_stats, key, n)

    def _count_once(self) -> None:
        """A store written before the indexes and stats existed: index and count it once."""
        if self._counted:
            return
        if self.r.hexists(self.k_stats, "version") or not self.r.set(self.prefix + "counting", 1, nx=True, ex=600):
            self._counted = True
            return
        try:
            total = self.r.zcard(self.k_index)
            for start in range(0, total, 500):
                ids = [i.decode() for i in self.r.zrange(self.k_index, start, start + 499)]
                with self.r.pipeline(transaction=False) as pipe:
                    for raw in self.r.mget([self._k(i) for i in ids]) if ids else []:
                        if raw:
                            self._index(pipe, json.loads(raw))
                    pipe.execute()
            self.r.hset(self.k_stats, "version", STATS_VERSION)
            self._counted = True
        finally:
            self.r.delete(self.prefix + "counting")

    @_guard
    def stats(self) -> dict[str, float]:
        self._count_once()
        return {k.decode(): float(v) for k, v in self.r.hgetall(self.k_stats).items() if k != b"version"}

    @_guard
    def _oldest_created(self, state: str) -> float | None:
        self._count_once()
        first = self.r.zrange(self._by(state, ANY), 0, 0, withscores=True)
        return first[0][1] if first else None

    @_guard
    def all(self) -> Iterable[dict]:
        out = []
        for start in range(0, self.r.zcard(self.k_index), 500):
            ids = [i.decode() for i in self.r.zrange(self.k_index, start, start + 499)]
            if ids:
                out += [json.loads(raw) for raw in self.r.mget([self._k(i) for i in ids]) if raw]
        return out

    @_guard
    def _insert(self, doc: dict) -> None:
        self._count_once()
        with self.r.pipeline() as pipe:
            pipe.set(self._k(doc["id"]), json.dumps(doc))
            pipe.zadd(self.k_index, {doc["id"]: doc["created"]})
            self._index(pipe, doc)
            pipe.execute()

    @_guard
    def _load(self, job_id: str) -> dict | None:
        raw = self.r.get(self._k(job_id))
        return json.loads(raw) if raw else None

    @_guard
    def _mutate(self, job_id: str, fn: Mutation, result: str | None = None) -> dict | None:
        """Read, change, then write only if the record is still what was read: one GET and one
        script call (two round trips; WATCH/MULTI/EXEC takes three), retried on a conflict."""
        self._count_once()
        key = self._k(job_id)
        while True:
            raw = self.r.get(key)
            if raw is None:
                return None
            old = json.loads(raw)
            new = fn(json.loads(raw))
            if new is None:
                return old
            ops = _Ops()
            if result is not None:
                ops.set(self._kr(job_id), result)
            self._index(ops, new, old)
            if self._swap(keys=[key], args=[raw, json.dumps(new), *ops.args]):
                return new

    @_guard
    def _load_result(self, job_id: str) -> str | None:
        raw = self.r.get(self._kr(job_id))
        return raw.decode("utf-8") if raw is not None else None

    @_guard
    def _remove(self, job_id: str) -> bool:
        self._count_once()
        key = self._k(job_id)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    pipe.multi()
                    pipe.delete(key, self._kr(job_id))
                    pipe.zrem(self.k_index, job_id)
                    pipe.srem(self.k_active, job_id)
                    pipe.zrem(self.k_ended, job_id)
                    if raw is not None:
                        self._index(pipe, None, json.loads(raw))
                    return bool(pipe.execute()[0])
                except redis.WatchError:
                    continue

    @_guard
    def _page(self, state: str | None, owner: Any, before: dict | None, limit: int) -> list[dict]:
        self._count_once()
        key = self._by(state, owner)
        top: Any = "+inf" if before is None else before["created"]
        out: list[dict] = []
        offset = 0
        while len(out) < limit:
            batch = limit - len(out) + (8 if before is not None else 0)  # room for the cursor's ties
            ids = self.r.zrevrangebyscore(key, top, "-inf", start=offset, num=batch, withscores=True)
            if not ids:
                break
            offset += len(ids)
            for (member, score), raw in zip(ids, self.r.mget([self._k(i.decode()) for i, _ in ids]), strict=True):
                job_id = member.decode()
                if before is not None and score == before["created"] and job_id >= before["id"]:
                    continue
                doc = json.loads(raw) if raw else None
                if doc is None or (state is not None and doc["state"] != state):
                    continue  # changed between the index read and the record read
                if owner is not ANY and doc.get("owner") != owner:
                    continue
                out.append(doc)
                if len(out) >= limit:
                    break
        return out

    @_guard
    def _active(self) -> Iterable[dict]:
        ids = [i.decode() for i in self.r.smembers(self.k_active)]
        if not ids:
            return []
        docs = [json.loads(raw) for raw in self.r.mget([self._k(i) for i in ids]) if raw]
        return [d for d in docs if d["state"] in ACTIVE]

    @_guard
    def _ended_before(self, ts: float) -> Iterable[str]:
        ids = [i.decode() for i in self.r.zrangebyscore(self.k_ended, "-inf", f"({ts}")]
        out = []
        for job_id, raw in zip(ids, self.r.mget([self._k(i) for i in ids]) if ids else [], strict=True):
            if raw and json.loads(raw)["state"] in ENDED:
                out.append(job_id)
        return out
