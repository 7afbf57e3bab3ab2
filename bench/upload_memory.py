"""Web process memory while 1 GB is uploaded, against the process at rest.

pserve (waitress) on embedded defaults without the worker; the upload is streamed from a generator
over loopback (never held in this process either); the server's RSS at rest (VmRSS) and its peak
(VmHWM) are read from /proc before and after. Then the same upload against a lower limit, refused
with 413. What is measured is whatever ``views/api.py`` does with the body at the time of the run.

    python -m bench upload_memory [--quick]
"""
from __future__ import annotations

import http.client
import json
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from .common import pserve_ini, start_pserve

CHUNK = b"0123456789abcdef" * 65536  # 1 MiB


def vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return 0


def multipart(boundary: str, megabytes: int) -> Iterator[bytes]:
    """The request body, generated a MiB at a time: never held whole by the client either."""
    yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
           "Content-Type: text/plain\r\n\r\n").encode()
    for _ in range(megabytes):
        yield CHUNK
    yield f"\r\n--{boundary}--\r\n".encode()


def upload(port: int, megabytes: int) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    length = sum(len(part) for part in multipart(boundary, 0)) + megabytes * len(CHUNK)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", "/jobs")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    try:
        for part in multipart(boundary, megabytes):
            conn.send(part)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer 413 and close before the body is sent
    res = conn.getresponse()
    body = json.loads(res.read() or b"{}")
    conn.close()
    return res.status, body


def serve(tmp: Path, limit: str) -> tuple[subprocess.Popen, int]:
    ini = tmp / f"up-{limit}.ini"
    port = pserve_ini(ini, "egg:pyramid_jobs#main", {
        "jobs.broker_url": f"sqla+sqlite:///{tmp}/broker.sqlite", "jobs.store_url": f"sqlite:///{tmp}/jobs.sqlite",
        "jobs.data_dir": f"{tmp}/files", "jobs.embedded_worker": "false", "jobs.max_upload_size": limit},
        {"max_request_body_size": "4294967296"})
    proc = start_pserve(ini, port)
    time.sleep(1)  # let the process settle before its resting RSS is read
    return proc, port


def main(argv: list[str]) -> int:
    megabytes = 200 if "--quick" in argv else 1024
    status_code = 0
    with tempfile.TemporaryDirectory(prefix="pj-upload-") as d:
        tmp = Path(d)
        for limit, expect in (("4GB", 202), ("100MB", 413)):
            proc, port = serve(tmp, limit)
            try:
                rest = vm(proc.pid, "VmRSS")
                t = time.perf_counter()
                status, body = upload(port, megabytes)
                seconds = time.perf_counter() - t
                peak = vm(proc.pid, "VmHWM")
                print(f"{megabytes} MiB upload, limit {limit}: HTTP {status} (expected {expect}) in {seconds:.1f}s; "
                      f"server RSS at rest {rest} MB, peak {peak} MB, growth {peak - rest} MB (target < 100 MB)",
                      flush=True)
                if status != expect or peak - rest >= 100:
                    status_code = 1
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    return status_code
