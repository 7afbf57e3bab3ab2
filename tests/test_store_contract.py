"""One contract, every backend: every rule of a job's life holds on SQLite, Redis and PostgreSQL."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from pyramid_jobs.liveness import attempt_is_dead
from pyramid_jobs.store import ANY, StaleAttempt, new_record, open_store
from tests.conftest import REDIS_URL

W1 = {"host": "h1", "pid": 1}
W2 = {"host": "h2", "pid": 2}


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis),
                        pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path}/jobs.sqlite")
    elif request.param == "postgresql":
        s = open_store(f"{request.getfixturevalue('postgres_url')}?table={request.getfixturevalue('postgres_table')}")
    else:
        prefix = request.getfixturevalue("redis_prefix")
        s = open_store(f"{REDIS_URL}/15?prefix={prefix}")
    yield s
    s.close()


def make(store, owner=None, now=None, **kw):
    doc = new_record(uuid.uuid4().hex, filename="a.txt", size=3, media_type="text/plain", processor="txt",
                     owner=owner, now=now, **kw)
    store.create(doc)
    return doc


def test_create_get_and_unknown(store):
    doc = make(store)
    got = store.get(doc["id"])
    assert got["state"] == "queued" and got["filename"] == "a.txt" and got["attempt"] == 0
    assert store.get(uuid.uuid4().hex) is None


def test_claim_once(store):
    doc = make(store)
    first = store.claim(doc["id"], W1)
    assert first["state"] == "running" and first["attempt"] == 1 and first["worker"] == W1
    assert store.claim(doc["id"], W2) is None, "a live running attempt is never taken twice"
    taken = store.claim(doc["id"], W2, takeover=lambda d: True)
    assert taken["attempt"] == 2 and taken["worker"] == W2


def test_stale_attempt_cannot_write_or_finish(store):
    doc = make(store)
    store.claim(doc["id"], W1)
    store.claim(doc["id"], W2, takeover=lambda d: True)
    with pytest.raises(StaleAttempt):
        store.report(doc["id"], 1, {"percent": 50.0})
    assert store.finish(doc["id"], 1, "succeeded", result='{"a": 1}') is None
    assert store.get(doc["id"])["state"] == "running"
    assert store.finish(doc["id"], 2, "succeeded", result='{"b": 2}')["state"] == "succeeded"
    assert store.result(doc["id"]) == '{"b": 2}'
    assert store.finish(doc["id"], 2, "failed") is None, "an ended job stays ended"


def test_percent_never_goes_down(store):
    doc = make(store)
    store.claim(doc["id"], W1)
    store.report(doc["id"], 1, {"step": 2, "steps": 2, "percent": 60.0})
    store.report(doc["id"], 1, {"step": 1, "steps": 2, "percent": 10.0})
    assert store.get(doc["id"])["progress"]["percent"] == 60.0
    done = store.finish(doc["id"], 1, "succeeded", result="{}")
    assert done["progress"]["percent"] == 100.0


def test_cancel_queued_and_running(store):
    queued = make(store)
    assert store.cancel(queued["id"])["state"] == "cancelled"
    assert store.claim(queued["id"], W1) is None
    running = make(store)
    store.claim(running["id"], W1)
    assert store.cancel(running["id"])["cancel_requested"] is True
    assert store.report(running["id"], 1, None) is True
    assert store.finish(running["id"], 1, "cancelled")["state"] == "cancelled"
    assert store.cancel(running["id"])["state"] == "cancelled"


def test_history_and_timestamps(store):
    doc = make(store)
    store.claim(doc["id"], W1)
    done = store.finish(doc["id"], 1, "failed", error={"code": "x", "message": "y"})
    assert [h["state"] for h in done["history"]] == ["queued", "running", "failed"]
    assert done["started_at"] and done["finished_at"] and done["error"]["code"] == "x"


def test_list_newest_first_with_cursor_and_filters(store):
    ids = [make(store, owner="ann" if i % 2 else "bob", now=1000.0 + i)["id"] for i in range(7)]
    page, more = store.list(limit=3)
    assert [d["id"] for d in page] == ids[::-1][:3] and more
    page2, more2 = store.list(limit=3, before=page[-1]["id"])
    assert [d["id"] for d in page2] == ids[::-1][3:6] and more2
    page3, more3 = store.list(limit=3, before=page2[-1]["id"])
    assert [d["id"] for d in page3] == ids[::-1][6:] and not more3
    anns, _ = store.list(owner="ann", limit=10)
    assert {d["owner"] for d in anns} == {"ann"} and len(anns) == 3
    store.claim(ids[0], W1)
    running, _ = store.list(state="running", owner=ANY)
    assert [d["id"] for d in running] == [ids[0]]
    with pytest.raises(KeyError):
        store.list(before=uuid.uuid4().hex)


def test_same_created_time_pages_without_loss(store):
    ids = {make(store, now=5000.0)["id"] for _ in range(5)}
    seen, before = [], None
    while True:
        page, more = store.list(limit=2, before=before)
        seen += [d["id"] for d in page]
        if not more:
            break
        before = page[-1]["id"]
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_stranded_requeue_and_expiry(store):
    old = make(store, now=100.0)
    fresh = make(store, now=10_000.0)
    running = make(store, now=100.0)
    store.claim(running["id"], W1, now=200.0)
    stranded = {d["id"] for d in store.stranded(queued_grace=60, now=10_010.0,
                                                  dead=lambda d: attempt_is_dead(d, 60, now=10_010.0))}
    assert stranded == {old["id"], running["id"]}
    assert store.requeue(running["id"], now=10_010.0)["state"] == "queued"
    assert store.claim(running["id"], W2, now=10_011.0)["attempt"] == 2
    assert fresh["id"] not in stranded
    store.finish(running["id"], 2, "succeeded", result="{}", now=10_012.0)
    assert store.expired(100, now=10_050.0) == []
    assert store.expired(100, now=10_200.0) == [running["id"]]
    assert store.delete(running["id"]) and store.get(running["id"]) is None
    assert not store.delete(running["id"])


def test_concurrent_claims_give_one_winner(store):
    """Write conflicts make a backend retry a transition: its outcome must come from the last try."""
    for _ in range(5):
        doc = make(store)
        wins = []
        barrier = threading.Barrier(12)

        def claim(i, job_id=doc["id"], barrier=barrier, wins=wins):
            barrier.wait()
            if store.claim(job_id, {"host": "h", "pid": i}) is not None:
                wins.append(i)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        assert store.get(doc["id"])["attempt"] == 1


def test_marks_and_turns(store):
    """Times kept by name (last sweep, last worker seen) and one turn per period among all callers."""
    assert store.touched("swept") is None
    store.touch("swept", now=1000.0)
    assert store.touched("swept") == 1000.0
    assert store.take_turn("sweep", 0.5) is True
    assert store.take_turn("sweep", 0.5) is False
    time.sleep(0.6)
    assert store.take_turn("sweep", 0.5) is True
