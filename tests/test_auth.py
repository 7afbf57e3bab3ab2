"""Issue 12, item 9: the standalone app's own authentication (``jobs.auth``), through WebTest over the
app a real ini builds, and a real pserve that refuses to start open on a non-loopback address."""
from __future__ import annotations

import base64
import subprocess

import pytest
import webtest
from pyramid.paster import get_app

from pyramid_jobs.auth import hash_password, hash_token
from pyramid_jobs.errors import ConfigurationError
from tests.conftest import BIN, ROOT, settings_for, subprocess_env, write_ini

ANN, BOB, ROOT_TOKEN = "ann-token-" + "a" * 30, "bob-token-" + "b" * 30, "root-token-" + "c" * 30


def standalone(tmp_path, listen: str = "127.0.0.1:0", **extra: str) -> tuple[webtest.TestApp, str]:
    ini = write_ini(tmp_path, settings_for(tmp_path, **extra), factory="egg:pyramid_jobs#main")
    ini.write_text(ini.read_text().replace("listen = 127.0.0.1:0", f"listen = {listen}"))
    return webtest.TestApp(get_app(str(ini))), str(ini)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def tokens_app(tmp_path):
    users = tmp_path / "users"
    users.write_text(f"# made by python -m pyramid_jobs.auth\nbob {hash_token(BOB)}\nroot {hash_token(ROOT_TOKEN)}\n")
    app, _ = standalone(tmp_path, **{"jobs.auth": "tokens", "jobs.auth.users": f"ann {hash_token(ANN)}",
                                     "jobs.auth.users_file": str(users), "jobs.auth.admins": "root"})
    assert ANN not in (tmp_path / "app.ini").read_text() and BOB not in users.read_text(), "hashed at rest"
    return app


def test_tokens_sign_in_and_ownership(tokens_app):
    app = tokens_app
    res = app.get("/jobs", status=401)
    assert res.json["error"]["code"] == "unauthorized" and res.headers["WWW-Authenticate"].startswith("Basic")
    app.post("/jobs", upload_files=[("file", "a.txt", b"x")], status=401)
    app.get("/jobs", headers=bearer("not-a-token"), status=401)
    app.get("/jobs/ui", status=401)
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"ann's")], headers=bearer(ANN), status=202).json
    assert [j["id"] for j in app.get("/jobs", headers=bearer(ANN)).json["jobs"]] == [job["id"]]
    assert app.get("/jobs", headers=bearer(BOB)).json["jobs"] == []
    app.get(f"/jobs/{job['id']}", headers=bearer(BOB), status=404)
    app.post(f"/jobs/{job['id']}/cancel", headers=bearer(BOB), status=404)
    app.delete(f"/jobs/{job['id']}", headers=bearer(BOB), status=404)
    assert [j["id"] for j in app.get("/jobs", headers=bearer(ROOT_TOKEN)).json["jobs"]] == [job["id"]]
    page = app.get(f"/jobs/ui/{job['id']}", headers=basic("ann", ANN))  # a browser: the token as password
    assert "a.txt" in page.text
    app.get("/jobs/ui", headers=basic("bob", ANN), status=401)  # ann's token is not bob's password
    assert app.get("/jobs/health").json["store"] is True  # probes need no credentials


def test_metrics_need_an_administrator(tmp_path):
    app, _ = standalone(tmp_path, **{"jobs.auth": "tokens", "jobs.metrics": "true", "jobs.auth.admins": "root",
                                     "jobs.auth.users": f"ann {hash_token(ANN)}\n  root {hash_token(ROOT_TOKEN)}"})
    app.get("/jobs/metrics", status=401)
    app.get("/jobs/metrics", headers=bearer(ANN), status=403)
    assert "pyramid_jobs_queue_depth" in app.get("/jobs/metrics", headers=bearer(ROOT_TOKEN)).text


def test_basic_passwords(tmp_path):
    line = f"ann {hash_password('correct horse', iterations=1000)}"
    app, _ = standalone(tmp_path, **{"jobs.auth": "basic", "jobs.auth.users": line})
    app.get("/jobs/ui", headers=basic("ann", "wrong horse"), status=401)
    app.post("/jobs", upload_files=[("file", "a.txt", b"x")], headers=basic("ann", "correct horse"), status=202)
    assert len(app.get("/jobs", headers=basic("ann", "correct horse")).json["jobs"]) == 1


def test_bad_credential_lines_stop_start_up_without_echoing_them(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        standalone(tmp_path, **{"jobs.auth": "tokens", "jobs.auth.users": "ann plain-secret-token"})
    assert caught.value.key == "jobs.auth.users" and "plain-secret-token" not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        standalone(tmp_path, **{"jobs.auth": "sometimes"})
    assert caught.value.key == "jobs.auth"


def test_open_on_a_public_address_refuses_to_start(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        standalone(tmp_path, listen="0.0.0.0:6543")
    assert caught.value.key == "jobs.auth" and "0.0.0.0" in str(caught.value)
    app, _ = standalone(tmp_path, listen="0.0.0.0:6543", **{"jobs.auth": "none"})  # written out: served open
    app.get("/jobs", extra_environ={"REMOTE_ADDR": "203.0.113.9"}, status=200)


def test_unset_auth_answers_only_local_clients(tmp_path):
    app, _ = standalone(tmp_path)
    app.get("/jobs", extra_environ={"REMOTE_ADDR": "127.0.0.1"}, status=200)
    res = app.get("/jobs", extra_environ={"REMOTE_ADDR": "203.0.113.9"}, status=403)
    assert "jobs.auth" in res.text


def test_real_pserve_refuses_to_start_open(tmp_path):
    _, ini = standalone(tmp_path, listen="127.0.0.1:0")
    with open(ini, "a") as f:
        f.write("\n[server:public]\nuse = egg:waitress#main\nlisten = 0.0.0.0:0\n")
    out = subprocess.run([str(BIN / "pserve"), ini], cwd=ROOT, env=subprocess_env(), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and "jobs.auth" in out.stderr


def test_credential_helper_prints_a_hash_not_the_token():
    out = subprocess.run([str(BIN / "python"), "-m", "pyramid_jobs.auth", "token", "ann"], cwd=ROOT,
                         env=subprocess_env(), capture_output=True, text=True, timeout=60)
    token = out.stderr.rsplit(": ", 1)[-1].strip()
    assert out.returncode == 0 and out.stdout.strip() == f"ann {hash_token(token)}" and token not in out.stdout


def test_pjobs_submit_sends_its_token_to_a_real_pserve(tmp_path):
    import os

    from tests.conftest import Pserve, free_port, wait_for
    from tests.test_pserve_front import answers

    port = free_port()
    _, ini = standalone(tmp_path, listen=f"127.0.0.1:{port}",
                        **{"jobs.auth": "tokens", "jobs.auth.users": f"ann {hash_token(ANN)}"})
    server = Pserve(ini, tmp_path / "pserve.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(base, 2) or server.proc.poll() is not None, timeout=60, what="pserve")
        (tmp_path / "a.txt").write_text("hello")
        cmd = [str(BIN / "pjobs"), "submit", f"{base}/jobs", str(tmp_path / "a.txt")]
        anonymous = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=60)
        assert anonymous.returncode == 1 and "unauthorized" in anonymous.stdout
        env = {**subprocess_env(), "PJOBS_TOKEN": ANN}
        signed = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert signed.returncode == 0, signed.stdout + signed.stderr
        assert ANN not in os.linesep.join([signed.stdout, (tmp_path / "pserve.log").read_text()])
    finally:
        server.kill()
