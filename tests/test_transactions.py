"""With pyramid_tm, a job is published only once the request's transaction commits."""
from __future__ import annotations

import sqlite3

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


def make_app(tmp_path, doom: bool):
    settings = settings_for(tmp_path)
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
