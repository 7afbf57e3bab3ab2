"""Issue 12, item 6: a real pserve with production.ini's server settings stays open to new clients
while idle, half-sent connections pile up (bounded sockets, a time limit)."""
from __future__ import annotations

import configparser
import socket
import time
import urllib.request

import pytest

from tests.conftest import ROOT, Pserve, free_port, settings_for, wait_for, write_ini

pytestmark = pytest.mark.timeout(120)


def production_server() -> dict:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "production.ini")
    return dict(parser["server:main"])


def answers(base: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/jobs/health", timeout=timeout) as res:
            return res.status == 200
    except OSError:
        return False


def half_sent(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
              b"Content-Length: 100000\r\n\r\n--b\r\n")
    return s


def test_idle_half_sent_connections_do_not_take_the_server_offline(tmp_path):
    server = production_server()
    limit, timeout, cleanup = (int(server[k]) for k in ("connection_limit", "channel_timeout", "cleanup_interval"))
    assert limit <= 500 and timeout + cleanup <= 30, "production.ini: an explicit, short-lived connection budget"
    port = free_port()
    ini = write_ini(tmp_path, settings_for(tmp_path))
    lines = [f"{k} = {v}" for k, v in server.items() if k not in ("use", "listen")]
    ini.write_text(ini.read_text().replace("listen = 127.0.0.1:0",
                                           f"listen = 127.0.0.1:{port}\n" + "\n".join(lines)))
    base = f"http://127.0.0.1:{port}"
    pserve = Pserve(ini, tmp_path / "pserve.log")
    sockets: list[socket.socket] = []
    try:
        wait_for(lambda: answers(base, 2) or pserve.proc.poll() is not None, timeout=60, what="pserve")
        assert pserve.proc.poll() is None, (tmp_path / "pserve.log").read_text()[-3000:]
        sockets += [half_sent(port) for _ in range(limit // 2)]
        assert answers(base, 5), "below the limit a new client is served at once"
        sockets += [half_sent(port) for _ in range(limit // 2 + 10)]
        started = time.monotonic()
        assert answers(base, timeout + cleanup + 15), "over the limit, a new client is served once idle ones close"
        waited = time.monotonic() - started
        assert waited <= timeout + cleanup + 15
    finally:
        for s in sockets:
            s.close()
        pserve.kill()
