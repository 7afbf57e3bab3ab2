"""With pyramid_tm, a job is published only once the request's transaction commits."""
from __future__ import annotations

import sqlite3

import pytest
import webtest
from pyramid.config import Configurator

from tests.conftest import settings_for


def broker_messages(tmp_path) -> int:
    with sqlite3.connect(tmp_path / "broker.sqlite") as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM kombu_message").fetchone()[0]
        except sqlite3.OperationalError:  # the table is created by the first publish
            return 0


def always_veto(request, response) -> bool:
    """A host whose transaction is vetoed (as pyramid_tm does on errors) aborts the request's work."""
    return True


def make_app(tmp_path, doom: bool, store_url: str | None = None):
    settings = settings_for(tmp_path, **({"jobs.store_url": store_url} if store_url else {}))
    if doom:
        settings["tm.commit_veto"] = "tests.test_transactions.always_veto"
    with Configurator(settings=settings) as config:
        config.include("pyramid_tm")
        config.include("pyramid_jobs")
    return webtest.TestApp(config.make_wsgi_app())


def test_published_after_commit(tmp_path):
    app = make_app(tmp_path, doom=False)
    app.post("/jobs", upload_files=[("file", "a.txt", b"x")], status=202)
    assert broker_messages(tmp_path) == 1


def test_not_published_when_the_transaction_aborts(tmp_path):
    app = make_app(tmp_path, doom=True)
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"x")], status=202).json
    assert broker_messages(tmp_path) == 0
    # the record stays queued: the sweep publishes it once it is past jobs.queued_grace
    assert app.get(f"/jobs/{job['id']}").json["state"] == "queued"


@pytest.mark.postgres
def test_postgres_record_commits_with_the_host_transaction(tmp_path, postgres_url, postgres_table):
    import psycopg

    url = f"{postgres_url}?table={postgres_table}"
    ok = make_app(tmp_path / "ok", doom=False, store_url=url)
    kept = ok.post("/jobs", upload_files=[("file", "a.txt", b"x")], status=202).json
    assert ok.get(f"/jobs/{kept['id']}").json["state"] == "queued"
    assert broker_messages(tmp_path / "ok") == 1

    vetoed = make_app(tmp_path / "veto", doom=True, store_url=url)
    gone = vetoed.post("/jobs", upload_files=[("file", "b.txt", b"y")], status=202).json
    # the host's transaction aborted: no record, no message, no upload left behind
    vetoed.get(f"/jobs/{gone['id']}", status=404)
    assert broker_messages(tmp_path / "veto") == 0
    assert not (tmp_path / "veto" / "files" / gone["id"][:2] / gone["id"]).exists()
    assert not any(gone["id"] in str(p) for p in (tmp_path / "veto" / "files").rglob("*"))
    with psycopg.connect(postgres_url) as conn:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {postgres_table}")]
    assert ids == [kept["id"]]
