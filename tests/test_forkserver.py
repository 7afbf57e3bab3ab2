"""The embedded worker's fork server: real processes, forked while this one has other threads busy."""
from __future__ import annotations

import signal
import sqlite3
import threading
import time

import pytest

from pyramid_jobs import forkserver
from pyramid_jobs.forkserver import ForkServer, send
from pyramid_jobs.liveness import pid_alive
from tests.conftest import wait_for


@pytest.fixture(params=["records", "stream"])
def fork_server(request, monkeypatch):
    """Each test twice: with Linux's record sockets, and with the length-prefixed stream other
    systems (macOS) use."""
    monkeypatch.setattr(forkserver, "STREAM", request.param == "stream")
    servers: list[ForkServer] = []

    def start(target) -> ForkServer:
        server = ForkServer(target)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _holding(enter, leave):
    """Run ``enter`` in a thread that then waits for ``release`` before ``leave``; answers ``release``."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        state = enter()
        held.set()
        release.wait(30)
        leave(state)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10)
    return release


def test_a_child_never_inherits_a_lock_another_thread_holds(fork_server):
    lock = threading.Lock()
    server = fork_server(lambda _, conn: send(conn, ("outcome", lock.acquire(timeout=2))))
    release = _holding(lock.acquire, lambda _: lock.release())
    try:
        child = server.fork("job")
        assert child.report(10) == ("outcome", True)
    finally:
        release.set()


def test_a_child_writes_to_sqlite_while_a_thread_of_its_parent_is_inside_a_transaction(tmp_path, fork_server):
    """A child forked from this process at this moment would inherit SQLite's bookkeeping of the
    thread's write lock and meet "database is locked" once its busy timeout ran out."""
    db = str(tmp_path / "jobs.sqlite")
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")

    def write(_: str, reply) -> None:
        c = sqlite3.connect(db, timeout=5, isolation_level=None)
        try:
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO t VALUES ('child')")
            c.execute("COMMIT")
            send(reply, ("outcome", "written"))
        except sqlite3.Error as exc:
            send(reply, ("error", repr(exc)))

    server = fork_server(write)

    def begin() -> sqlite3.Connection:
        c = sqlite3.connect(db, isolation_level=None)
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO t VALUES ('parent')")
        return c

    release = _holding(begin, lambda c: c.execute("COMMIT"))
    started = time.monotonic()
    child = server.fork("job")
    time.sleep(0.3)
    release.set()
    assert child.report(15) == ("outcome", "written")
    assert time.monotonic() - started < 3


def test_a_child_that_dies_is_reported_with_its_signal(fork_server):
    server = fork_server(lambda *_: signal.raise_signal(signal.SIGKILL))
    child = server.fork("job")
    assert child.report(10) is None
    assert child.ended and child.exitcode == -signal.SIGKILL and child.pid is not None


def test_a_stuck_child_times_out_and_is_killed(fork_server):
    server = fork_server(lambda *_: time.sleep(60))
    child = server.fork("job")
    assert child.report(0.5) is None and not child.ended and child.pid is not None
    child.kill()
    assert child.exitcode == -signal.SIGKILL
    assert not pid_alive(child.pid)


def test_letting_go_of_a_child_or_stopping_the_server_kills_what_runs(fork_server):
    server = fork_server(lambda *_: time.sleep(60))
    first, second = server.fork("a"), server.fork("b")
    first.report(0.5)
    second.report(0.5)
    first.close()
    wait_for(lambda: not pid_alive(first.pid), timeout=10, what="the child let go of to be killed")
    assert pid_alive(second.pid)
    server.stop()
    wait_for(lambda: not server.alive, timeout=10, what="the fork server to end")
    wait_for(lambda: not pid_alive(second.pid), timeout=10, what="its child to end with it")
