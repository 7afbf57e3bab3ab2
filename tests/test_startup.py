"""Starting the programs a user runs: quiet (no deprecation noise) and telling where the app is."""
from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from tests.conftest import BIN, ROOT, free_port, settings_for, write_ini


def _env() -> dict:
    """The user's environment: Python's default warning filters, not the suite's ``ignore``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.parametrize("argv", [["pjobs", "processors", "{ini}"],
                                  ["celery", "-A", "pyramid_jobs.celery_app", "report", "--ini", "{ini}"]])
def test_commands_start_without_warnings(argv, tmp_path):
    """Both bootstrap the application from an ini, which imports all of Pyramid (once: pkg_resources)."""
    ini = str(write_ini(tmp_path, settings_for(tmp_path)))
    argv = [a.format(ini=ini) for a in argv]
    done = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


@pytest.mark.redis
def test_pserve_production_ini_prints_its_url(tmp_path):
    port = free_port()
    ini = (ROOT / "production.ini").read_text()
    ini = ini.replace("listen = 0.0.0.0:6543", f"listen = 127.0.0.1:{port}")
    ini = ini.replace("%(here)s/var/files", str(tmp_path / "files"))
    path = tmp_path / "production.ini"
    path.write_text(ini)
    from pyramid_jobs.auth import hash_token

    (tmp_path / "tokens.txt").write_text(f"ann {hash_token('a' * 32)}\n")  # production.ini requires its users
    log = tmp_path / "pserve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "pserve"), str(path)], cwd=tmp_path, env=_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "Serving on" not in log.read_text() and proc.poll() is None:
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert re.search(rf"Serving on http://127\.0\.0\.1:{port}", text), text
    assert "Warning" not in text, text
