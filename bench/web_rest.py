"""The web process at rest: start-up time and resident memory of ``pserve`` serving the add-on
(no embedded worker), next to a bare Pyramid app served the same way.

    python -m bench web_rest [--quick]

The readers (pandas, numpy, pypdf, PDFium, calamine, lxml, jieba, Tesseract) are imported by
workers only; ``tests/test_light_web.py`` keeps it so.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from .common import pserve_ini, start_pserve

BARE_APP = "bench.web_rest_bare:main"


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _once(ini: Path, port: int) -> tuple[float, float]:
    started = time.perf_counter()
    proc = start_pserve(ini, port)
    took = time.perf_counter() - started
    try:
        return took, _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str]) -> int:
    rounds = 1 if "--quick" in argv else 3
    with tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        tmp = Path(d)
        ours_ini = tmp / "ours.ini"
        settings = {"jobs.broker_url": f"sqla+sqlite:///{tmp}/broker.sqlite",
                    "jobs.store_url": f"sqlite:///{tmp}/jobs.sqlite", "jobs.data_dir": str(tmp / "files"),
                    "jobs.embedded_worker": "false"}
        ours_port = pserve_ini(ours_ini, "egg:pyramid_jobs#main", settings)
        bare_ini = tmp / "bare.ini"
        bare_port = pserve_ini(bare_ini, f"call:{BARE_APP}", {})
        ours, bare = [], []
        for _ in range(rounds):  # alternated, so both see the same machine
            bare.append(_once(bare_ini, bare_port))
            ours.append(_once(ours_ini, ours_port))
    for label, runs in (("bare Pyramid app", bare), ("pyramid_jobs (all plugins)", ours)):
        print(f"   {label:28} start to first answer {statistics.median(t for t, _ in runs):5.2f} s, "
              f"RSS at rest {statistics.median(m for _, m in runs):6.1f} MB", flush=True)
    return 0
