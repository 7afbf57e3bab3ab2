"""The ``pjobs`` command, run as a user runs it: a real subprocess."""
from __future__ import annotations

import json
import subprocess

import webtest
from pyramid.paster import get_app

from tests.conftest import BIN, ROOT, settings_for, subprocess_env, write_ini
from tests.test_embedded import serve  # noqa: F401  (a fixture: pserve on embedded defaults)


def pjobs(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pjobs"), *args], cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=timeout)


def test_run_locally_with_a_progress_bar(corpus):
    out = pjobs("run", str(corpus / "csv_iris.csv"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["result"]["rows"] == 150
    assert "step 3/3" in out.stderr and "100.0%" in out.stderr


def test_run_reports_processor_errors(corpus):
    out = pjobs("run", str(corpus / "pdf_encrypted.pdf"))
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "encrypted"
    out = pjobs("run", str(corpus / "pdf_encrypted.pdf"), "--options", '{"password": "openpassword"}')
    assert out.returncode == 0 and json.loads(out.stdout)["result"]["pages"] == 1


def test_processors_list_with_packages(tmp_path):
    ini = write_ini(tmp_path, settings_for(tmp_path))
    out = pjobs("processors", str(ini))
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()}
    assert lines["txt"] == "pyramid_jobs" and lines["shout"] == "shout_plugin" and lines["slow"] == "tests"


def test_list_show_cancel_sweep(tmp_path):
    ini = write_ini(tmp_path, settings_for(tmp_path))
    app = webtest.TestApp(get_app(str(ini)))
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello")]).json
    listed = pjobs("list", str(ini))
    assert job["id"] in listed.stdout and "queued" in listed.stdout
    shown = pjobs("show", str(ini), job["id"])
    assert json.loads(shown.stdout)["id"] == job["id"]
    cancelled = pjobs("cancel", str(ini), job["id"])
    assert cancelled.returncode == 0 and app.get(f"/jobs/{job['id']}").json["state"] == "cancelled"
    assert pjobs("cancel", str(ini), job["id"]).returncode == 1
    assert pjobs("show", str(ini), "0" * 32).returncode == 1
    swept = pjobs("sweep", str(ini))
    assert swept.returncode == 0 and set(json.loads(swept.stdout)) == {"requeued", "expired"}


def test_submit_and_wait_over_http(serve, corpus, tmp_path):  # noqa: F811
    base = serve()
    out = pjobs("submit", f"{base}/jobs", str(corpus / "txt_english.txt"), str(corpus / "csv_iris.csv"), "--wait")
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["state"] for a in answers] == ["succeeded", "succeeded"]
    assert answers[1]["result"]["rows"] == 150
    assert "100.0%" in out.stderr
    bad = tmp_path / "x.mkv"
    bad.write_bytes(b"\x1aE\xdf\xa3")
    out = pjobs("submit", f"{base}/jobs", str(bad))
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "unsupported_type"
