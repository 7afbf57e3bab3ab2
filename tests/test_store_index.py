"""Issue 12, item 5: a page of the list and a metrics scrape cost what the page holds, not what the
store holds. Work is counted (SQLite virtual-machine steps, Redis commands and records read), never
timed."""
from __future__ import annotations

import json
import uuid

import pytest
import redis

from pyramid_jobs.store import ANY, new_record, open_store
from pyramid_jobs.store.redis import RedisStore
from pyramid_jobs.store.sqlite import SQLiteStore
from tests.conftest import REDIS_URL

MANY = 1000


def fill(store, n: int) -> str:
    """``n`` jobs of two owners, all succeeded but the oldest one (queued, ann's); answers its id."""
    first = None
    for i in range(n):
        doc = new_record(uuid.uuid4().hex, filename="a.txt", size=10, media_type="text/plain", processor="txt",
                         owner="ann" if i % 2 == 0 else "bob", now=1000.0 + i)
        store.create(doc)
        if first is None:
            first = doc["id"]
            continue
        store.claim(doc["id"], {"host": "h", "pid": 1}, now=2000.0 + i)
        store.finish(doc["id"], 1, "succeeded", result="{}", now=2001.0 + i)
    return first


class CountingRedis(redis.Redis):
    """Counts the commands sent and the records (job keys) read."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.commands = 0
        self.records_read = 0

    def execute_command(self, *args, **options):
        self.commands += 1
        if args[0] in ("MGET", "GET"):
            self.records_read += len(args) - 1
        return super().execute_command(*args, **options)


def sqlite_steps(store: SQLiteStore, fn) -> int:
    """The SQLite virtual-machine instructions ``fn`` costs (counted in blocks of 100)."""
    steps = [0]
    conn = store._conn()

    def tick() -> int:
        steps[0] += 100
        return 0

    conn.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 100)
    return steps[0]


def test_sqlite_page_and_scrape_cost_follows_the_page(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/jobs.sqlite")
    queued = fill(store, MANY)
    cases = [lambda: store.list(state="queued", limit=1), lambda: store.list(state="queued", owner="ann", limit=1),
             lambda: store.list(owner="bob", limit=1), lambda: store.list(state="succeeded", owner="ann", limit=1),
             lambda: store.stats(), lambda: store.oldest_queued_age()]
    assert store.list(state="queued", limit=1)[0][0]["id"] == queued
    full_scan = sqlite_steps(store, lambda: list(store.all()))
    for case in cases:
        assert sqlite_steps(store, case) < full_scan / 20
    page, more = store.list(owner="bob", limit=5)
    deep = page[-1]["id"]
    assert sqlite_steps(store, lambda: store.list(owner="bob", limit=5, before=deep)) < full_scan / 20
    stats = store.stats()
    assert stats["now|queued|txt"] == 1 and stats["now|succeeded|txt"] == MANY - 1
    assert stats["submitted|txt"] == MANY and stats["ended|succeeded|txt"] == MANY - 1


@pytest.fixture
def counted_redis(redis_prefix):
    client = CountingRedis.from_url(f"{REDIS_URL}/15")
    store = RedisStore(client, redis_prefix)
    yield store
    store.close()


def test_redis_page_and_scrape_read_only_the_page(counted_redis):
    store = counted_redis
    queued = fill(store, MANY)
    r = store.r
    for kwargs in ({"state": "queued"}, {"state": "queued", "owner": "ann"}, {"owner": "bob"},
                   {"state": "succeeded", "owner": "ann"}, {"owner": ANY}):
        r.commands = r.records_read = 0
        page, _ = store.list(limit=1, **kwargs)
        assert len(page) == 1 and r.records_read <= 2 and r.commands <= 3, (kwargs, r.commands, r.records_read)
    assert store.list(state="queued", limit=1)[0][0]["id"] == queued
    r.commands = r.records_read = 0
    stats, age = store.stats(), store.oldest_queued_age()
    assert r.records_read == 0 and r.commands <= 2 and age is not None
    assert stats["now|queued|txt"] == 1 and stats["now|succeeded|txt"] == MANY - 1


def test_redis_store_of_an_older_version_is_indexed_once(redis_prefix):
    """Records written before the indexes existed: the first use indexes and counts them."""
    client = redis.Redis.from_url(f"{REDIS_URL}/15")
    for i in range(5):
        doc = new_record(uuid.uuid4().hex, filename="a.txt", size=10, media_type="text/plain", processor="txt",
                         owner="ann", now=1000.0 + i)
        client.set(f"{redis_prefix}job:{doc['id']}", json.dumps(doc))
        client.zadd(f"{redis_prefix}jobs", {doc["id"]: doc["created"]})
    store = RedisStore(client, redis_prefix)
    assert len(store.list(state="queued", owner="ann", limit=10)[0]) == 5
    assert store.stats()["now|queued|txt"] == 5
    store.delete(store.list(limit=1)[0][0]["id"])
    assert store.stats()["now|queued|txt"] == 4


def test_sqlite_file_of_an_older_version_is_counted_once(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/jobs.sqlite")
    fill(store, 5)
    conn = store._conn()
    conn.execute("DELETE FROM stats")
    store.close()
    again = open_store(f"sqlite:///{tmp_path}/jobs.sqlite")
    assert again.stats()["now|succeeded|txt"] == 4 and again.stats()["submitted|txt"] == 5


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def test_postgres_page_reads_only_its_rows(postgres_url, postgres_table):
    from pyramid_jobs.store.sql import page_query

    store = open_store(f"{postgres_url}?table={postgres_table}")
    try:
        queued = fill(store, MANY)
        conn = store._conn()
        conn.execute(f"ANALYZE {postgres_table}")
        page, _ = store.list(owner="bob", limit=5)
        for state, owner, before in (("queued", ANY, None), ("queued", "ann", None), (None, "bob", None),
                                     ("succeeded", "ann", None), (None, "bob", page[-1])):
            sql, args = page_query(postgres_table, state, owner, before, 2, mark="%s")
            (plan,), = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args).fetchone()
            nodes = list(plan_nodes(plan["Plan"]))
            assert all("Seq Scan" not in n["Node Type"] for n in nodes), (state, owner, nodes)
            examined = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in nodes)
            assert examined <= 12, (state, owner, examined, nodes)  # a page of 2 among 1,000 rows
        assert store.list(state="queued", limit=1)[0][0]["id"] == queued
        stats = store.stats()
        assert stats["now|queued|txt"] == 1 and stats["now|succeeded|txt"] == MANY - 1
        assert store.oldest_queued_age() is not None
    finally:
        store.close()
