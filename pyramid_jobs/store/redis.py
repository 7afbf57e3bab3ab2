"""The Redis job store: shared by any number of web processes and workers on any machines.

Records are JSON strings under ``{prefix}job:{id}``; a sorted set orders them by creation, a
set holds the active (queued, running) ones for the sweep, and a sorted set the ended ones by
end time for expiry. Every transition is an optimistic transaction (WATCH/MULTI) on the record.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis

from .base import ACTIVE, ANY, ENDED, JobStore, Mutation, StoreUnavailable

T = TypeVar("T")


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kw: Any) -> T:
        try:
            return method(*args, **kw)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"The job store (Redis) does not answer: {exc}") from exc

    return wrapper


class RedisStore(JobStore):
    def __init__(self, client: redis.Redis, prefix: str = "pyramid_jobs:"):
        self.r = client
        self.prefix = prefix
        self.k_index = prefix + "jobs"
        self.k_active = prefix + "active"
        self.k_ended = prefix + "ended"

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
        return bool(self.r.set(f"{self.prefix}turn:{name}", "1", nx=True, px=max(int(every * 1000), 1)))

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

    def _index(self, pipe: Any, doc: dict) -> None:
        if doc["state"] in ACTIVE:
            pipe.sadd(self.k_active, doc["id"])
        else:
            pipe.srem(self.k_active, doc["id"])
            pipe.zadd(self.k_ended, {doc["id"]: doc.get("finished") or doc["created"]})

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
        key = self._k(job_id)
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    new = fn(json.loads(raw))
                    if new is None:
                        pipe.unwatch()
                        return json.loads(raw)
                    pipe.multi()
                    pipe.set(key, json.dumps(new))
                    if result is not None:
                        pipe.set(self._kr(job_id), result)
                    self._index(pipe, new)
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue

    @_guard
    def _load_result(self, job_id: str) -> str | None:
        raw = self.r.get(self._kr(job_id))
        return raw.decode("utf-8") if raw is not None else None

    @_guard
    def _remove(self, job_id: str) -> bool:
        with self.r.pipeline() as pipe:
            pipe.delete(self._k(job_id), self._kr(job_id))
            pipe.zrem(self.k_index, job_id)
            pipe.srem(self.k_active, job_id)
            pipe.zrem(self.k_ended, job_id)
            return bool(pipe.execute()[0])

    @_guard
    def _page(self, state: str | None, owner: Any, before: dict | None, limit: int) -> list[dict]:
        out: list[dict] = []
        top: Any = "+inf" if before is None else before["created"]
        skip_ties = before is not None
        batch = max(limit * 2, 50)
        offset = 0
        while len(out) < limit:
            ids = self.r.zrevrangebyscore(self.k_index, top, "-inf", start=offset, num=batch, withscores=True)
            if not ids:
                break
            offset += len(ids)
            keys = [self._k(i.decode()) for i, _ in ids]
            for (member, score), raw in zip(ids, self.r.mget(keys), strict=True):
                job_id = member.decode()
                if skip_ties and score == before["created"] and job_id >= before["id"]:
                    continue
                if raw is None:
                    continue
                doc = json.loads(raw)
                if state is not None and doc["state"] != state:
                    continue
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
