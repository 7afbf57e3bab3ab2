"""The ``pjobs`` command: as a user runs it (a real subprocess) where its output streams and exit
status are the point, in process (``pjobs.main``) where a subprocess adds nothing."""
from __future__ import annotations

import json
import subprocess

import pytest
import webtest
from pyramid.paster import get_app

from pyramid_jobs.scripts.pjobs import main
from tests.conftest import BIN, ROOT, settings_for, subprocess_env, write_ini


def pjobs(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pjobs"), *args], cwd=ROOT, env=subprocess_env(), capture_output=True,
                          text=True, timeout=timeout)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.worker
def test_run_locally_with_a_progress_bar(corpus):
    out = pjobs("run", str(corpus / "csv_iris.csv"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["result"]["rows"] == 150
    assert "step 3/3" in out.stderr and "100.0%" in out.stderr


@pytest.mark.worker
def test_run_reports_processor_errors(corpus):
    out = pjobs("run", str(corpus / "pdf_encrypted.pdf"))
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "encrypted"
    out = pjobs("run", str(corpus / "pdf_encrypted.pdf"), "--options", '{"password": "openpassword"}')
    assert out.returncode == 0 and json.loads(out.stdout)["result"]["pages"] == 1


def test_processors_list_with_packages(tmp_path, capsys):
    ini = write_ini(tmp_path, settings_for(tmp_path))
    status, out, err = run_main(capsys, "processors", str(ini))
    assert status == 0, err
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert lines["txt"] == "pyramid_jobs" and lines["shout"] == "shout_plugin" and lines["slow"] == "tests"


def test_list_show_cancel_sweep(tmp_path, capsys):
    ini = write_ini(tmp_path, settings_for(tmp_path))
    app = webtest.TestApp(get_app(str(ini)))
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello")]).json
    status, listed, _ = run_main(capsys, "list", str(ini))
    assert status == 0 and job["id"] in listed and "queued" in listed
    status, shown, _ = run_main(capsys, "show", str(ini), job["id"])
    assert status == 0 and json.loads(shown)["id"] == job["id"]
    status, cancelled, _ = run_main(capsys, "cancel", str(ini), job["id"])
    assert status == 0 and cancelled.split() == [job["id"], "cancelled"]
    assert app.get(f"/jobs/{job['id']}").json["state"] == "cancelled"
    assert run_main(capsys, "cancel", str(ini), job["id"])[0] == 1
    assert run_main(capsys, "show", str(ini), "0" * 32)[0] == 1
    status, swept, _ = run_main(capsys, "sweep", str(ini))
    assert status == 0 and json.loads(swept) == {"requeued": [], "expired": [], "orphans": []}


@pytest.mark.worker
def test_submit_and_wait_over_http(serve, corpus, tmp_path):
    base = serve()
    out = pjobs("submit", f"{base}/jobs", str(corpus / "txt_english.txt"), str(corpus / "csv_iris.csv"), "--wait")
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["state"] for a in answers] == ["succeeded", "succeeded"]
    assert answers[1]["result"]["rows"] == 150
    assert "100.0%" in out.stderr
    for answer in answers:  # every output file's URL, ready to download
        assert answer["artifacts"] and all(u.startswith(f"{base}/jobs/{answer['id']}/artifacts/")
                                           for u in answer["artifacts"].values())
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ\x90\x00")
    out = pjobs("submit", f"{base}/jobs", str(bad))
    assert out.returncode == 1 and json.loads(out.stdout)["error"]["code"] == "unsupported_type"


def test_mistakes_get_one_line_not_a_traceback(serve, tmp_path, capsys):  # noqa: F811
    from pyramid_jobs.scripts.pjobs import main

    base = serve()
    assert main(["run", str(tmp_path / "missing.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"pjobs: {tmp_path / 'missing.pdf'}: no such file"
    assert main(["submit", f"{base}/jobs", str(tmp_path / "missing.pdf")]) == 2
    assert "no such file" in capsys.readouterr().err
    ok = tmp_path / "a.txt"
    ok.write_text("hello")
    assert main(["submit", f"{base}/", str(ok)]) == 2  # the server root, not the jobs collection
    err = capsys.readouterr().err
    assert "is not a pyramid_jobs API" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_help_describes_every_subcommand(capsys):
    from pyramid_jobs.scripts.pjobs import main, parser

    commands = parser()._subparsers._group_actions[0].choices
    try:
        main(["--help"])
    except SystemExit:
        pass
    text = capsys.readouterr().out
    for name in commands:
        assert name in text
        help_line = [line for line in text.splitlines() if line.strip().startswith(name + " ")]
        assert help_line and len(help_line[0].split()) > 1, f"{name} has no description in --help"
