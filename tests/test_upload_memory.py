"""A large upload, accepted or refused, does not grow the web process: it goes to disk in chunks."""
from __future__ import annotations

import pytest

from bench.upload_memory import serve, upload, vm

pytestmark = pytest.mark.worker

MEGABYTES = 300


@pytest.mark.parametrize("limit,status", [("1GB", 202), ("50MB", 413)])
def test_large_upload_keeps_rss_flat(tmp_path, limit, status):
    proc, port = serve(tmp_path, limit)
    try:
        rest = vm(proc.pid, "VmRSS")
        answer, body = upload(port, MEGABYTES)
        peak = vm(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert answer == status, body
    if status == 413:
        assert body["error"]["code"] == "file_too_large"
        assert not list((tmp_path / "files").rglob("upload*")), "nothing is left behind"
    else:
        assert body["size"] == MEGABYTES * 1024 * 1024
    assert peak - rest < 100, f"RSS grew from {rest} MB to {peak} MB"
