"""Processor cost across sizes: the csv processor at 10 MB, 100 MB and 1 GB, the pdf processor at
10, 100 and 1,000 pages. Time per unit should stay level (linear time) and peak RSS flat.

    python -m bench scaling [--quick]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from . import files
from .processors import LIBS, OURS, _run


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    with tempfile.TemporaryDirectory(prefix="pj-scaling-") as d:
        tmp = Path(d)
        for name, unit, sizes, make in (
            ("csv", "MB", (10, 100) if quick else (10, 100, 1000), lambda n: files.csv_file(tmp / f"{n}.csv", n)),
            ("pdf", "page", (10, 100) if quick else (10, 100, 1000), lambda n: files.pdf_file(tmp / f"{n}.pdf", n)),
        ):
            per_unit = []
            for n in sizes:
                path = make(n)
                ours = _run(OURS.replace("{libs}", LIBS[name]), name, str(path))
                per_unit.append(ours["seconds"] / n)
                print(f"{name} {n:>5} {unit}{'s' if n > 1 else ''}: {ours['seconds']:7.2f}s, "
                      f"{ours['seconds'] / n * 1000:7.2f} ms per {unit}, peak RSS {ours['peak_mb']:.0f} MB", flush=True)
                path.unlink()
            spread = max(per_unit) / min(per_unit) - 1
            print(f"{name}: per-{unit} cost varies by {spread:.0%} across sizes (target within 20%)", flush=True)
    return 0
