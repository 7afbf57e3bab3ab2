"""Issue 12, item 7: a full disk answers 507 ``insufficient_storage`` and leaves nothing behind."""
from __future__ import annotations

import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest

from tests.conftest import settings_for
from tests.hostapp import main as host_main
from tests.test_api import assert_error, submit


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A 256 kB tmpfs (needs root, as in CI); skipped where it cannot be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def test_full_data_volume_answers_507_and_keeps_nothing(tmp_path, small_volume):
    app = webtest.TestApp(host_main({}, **settings_for(tmp_path, **{"jobs.data_dir": str(small_volume / "files"),
                                                                    "jobs.max_upload_size": "1MB"})))
    res = submit(app, body=b"word " * 120_000, status=507)
    assert_error(res, 507, "insufficient_storage")
    assert "out of storage space" in res.json["error"]["message"]
    assert files_under(small_volume) == []
    assert app.get("/jobs").json["jobs"] == []
    assert submit(app, body=b"a small file").json["state"] == "queued", "space left: it works again"


def test_a_file_size_limit_answers_507_too(app, tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, hard))  # CPython ignores SIGXFSZ: writes get EFBIG
    try:
        res = submit(app, body=b"word " * 120_000, status=507)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert_error(res, 507, "insufficient_storage")
    assert files_under(tmp_path / "files") == []
    assert app.get("/jobs").json["jobs"] == []
