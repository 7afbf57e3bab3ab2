"""Processor cost across sizes: the csv processor at 10 MB, 100 MB and 1 GB, the pdf processor at
10, 100 and 1,000 pages. Time per unit should stay level (linear time) and peak RSS flat.

Each size runs ``pyramid_jobs.testing.run_processor`` in a fresh child process. The child reports
its own clock (imports and plugin loading excluded) and its RSS at rest just before the run; its
peak RSS is read with ``getrusage(RUSAGE_CHILDREN)`` by a small launcher whose only child it is
(see ``bench.common.run_measured`` for why not by the bench process itself).

    python -m bench scaling [--quick]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from . import files
from .common import run_measured

CHILD = """
import json, sys, time
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get(sys.argv[1])
import pandas, pypdf  # the libraries the processors use, imported before the clock starts
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
rest = rss_mb()
t = time.perf_counter()
run_processor(processor, sys.argv[2], interval=0.5)
print(json.dumps({"seconds": time.perf_counter() - t, "rest_mb": rest}))
"""


def measure(name: str, path: Path) -> dict:
    """Run one processor on one file in a fresh child: its time, RSS at rest and peak RSS."""
    return run_measured(CHILD, name, str(path))


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    with tempfile.TemporaryDirectory(prefix="pj-scaling-") as d:
        tmp = Path(d)
        for name, unit, sizes, make in (
            ("csv", "MB", (10, 100) if quick else (10, 100, 1000), lambda n: files.csv_file(tmp / f"{n}.csv", n)),
            ("pdf", "page", (10, 100) if quick else (10, 100, 1000), lambda n: files.pdf_file(tmp / f"{n}.pdf", n)),
        ):
            runs = []
            for n in sizes:
                path = make(n)
                r = measure(name, path)
                runs.append((n, r))
                print(f"{name} {n:>5} {unit}{'s' if n > 1 else ''}: {r['seconds']:7.2f}s, "
                      f"{r['seconds'] / n * 1000:7.2f} ms per {unit}, RSS at rest {r['rest_mb']:.0f} MB, "
                      f"peak {r['peak_mb']:.0f} MB (+{r['peak_mb'] - r['rest_mb']:.0f})", flush=True)
                path.unlink()
            per_unit = [r["seconds"] / n for n, r in runs]
            spread = max(per_unit) / min(per_unit) - 1
            # the marginal cost between the two largest sizes, and the fixed cost it implies
            (n1, r1), (n2, r2) = runs[-2], runs[-1]
            slope = (r2["seconds"] - r1["seconds"]) / (n2 - n1)
            fixed = r1["seconds"] - slope * n1
            growth = [r["peak_mb"] - r["rest_mb"] for _, r in runs]
            print(f"{name}: per-{unit} cost varies by {spread:.0%} across sizes (target within 20%); marginal "
                  f"{slope * 1000:.2f} ms per {unit} from {n1} to {n2}, fixed cost {fixed:.2f}s; peak RSS growth "
                  f"{min(growth):.0f}-{max(growth):.0f} MB across sizes", flush=True)
    return 0
