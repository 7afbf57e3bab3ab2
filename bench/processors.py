"""Each processor next to the bare library call it is built on, on the same file in the same run.

Every measurement runs in a fresh subprocess started by a small launcher, so peak RSS is that run's
alone (``bench.common.run_measured``).

    python -m bench processors [--quick] [--only=csv,txt]

The csv processor is also shown next to a bare whole-file ``pd.read_csv`` (no statistics), the
txt processor next to a bare read + word count.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from . import files
from .common import run_measured

OURS = """
import json, resource, sys, time
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get(sys.argv[1])
import {libs}  # imported before the clock starts, as in the bare runs
t = time.perf_counter()
run_processor(processor, sys.argv[2], interval=0.5)
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BARE = {
    "csv": """
import pandas as pd
for chunk in pd.read_csv(PATH, sep=",", chunksize=200_000):
    chunk.describe(include="all")
""",
    "pdf": """
import pypdf
reader = pypdf.PdfReader(PATH)
text = [page.extract_text() for page in reader.pages]
""",
    "xlsx": """
import openpyxl
wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True)
for ws in wb.worksheets:
    for row in ws.iter_rows(values_only=True):
        pass
""",
    "docx": """
import docx
d = docx.Document(PATH)
text = [p.text for p in d.paragraphs]
""",
    "txt": """
from collections import Counter
import re
with open(PATH, encoding="utf-8") as f:
    words = Counter()
    for line in f:
        words.update(w.lower() for w in re.findall(r"\\w+", line))
""",
}

# further bare baselines, printed under the processor's line
MORE_BARE = {
    "csv": {"read_csv whole": """
import pandas as pd
frame = pd.read_csv(PATH)
"""},
}

LIBS = {"csv": "pandas", "pdf": "pypdf", "xlsx": "openpyxl", "docx": "docx", "txt": "re"}

TIMED = """
import json, resource, time
import {libs}  # imported before the clock starts: import time is no one's throughput
PATH = {path!r}
t = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - t,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _run(code: str, *args: str) -> dict:
    """A fresh child per measurement; its peak RSS read by a launcher of its own (bench.common)."""
    return run_measured(code, *args)


def cases(quick: bool, tmp: Path, only: list[str] | None = None) -> list[tuple[str, str, Path]]:
    csv_sizes = (5,) if quick else (10, 100)
    pdf_pages = (10,) if quick else (10, 100)
    made: list[tuple[str, str, Any]] = [
        ("csv", f"{mb} MB", lambda mb=mb: files.csv_file(tmp / f"{mb}.csv", mb)) for mb in csv_sizes]
    made += [("pdf", f"{n} pages", lambda n=n: files.pdf_file(tmp / f"{n}.pdf", n)) for n in pdf_pages]
    made.append(("xlsx", "20k rows" if quick else "100k rows",
                 lambda: files.xlsx_file(tmp / "t.xlsx", 20_000 if quick else 100_000)))
    made.append(("docx", "2k paragraphs" if quick else "20k paragraphs",
                 lambda: files.docx_file(tmp / "t.docx", 2_000 if quick else 20_000)))
    made.append(("txt", "10 MB" if quick else "100 MB", lambda: files.txt_file(tmp / "t.txt", 10 if quick else 100)))
    return [(name, size, make()) for name, size, make in made if not only or name in only]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("--only=")), None)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        for name, size, path in cases(quick, Path(d), only):
            bare = _run(TIMED.format(path=str(path), body=BARE[name], libs=LIBS[name]))
            ours = _run(OURS.replace("{libs}", LIBS[name]), name, str(path))
            ratio = bare["seconds"] / ours["seconds"]
            rows.append((name, size, path.stat().st_size / 1e6, bare, ours, ratio))
            print(f"{name:5} {size:>15} {path.stat().st_size / 1e6:8.1f} MB  bare {bare['seconds']:7.2f}s "
                  f"{bare['peak_mb']:6.0f} MB   ours {ours['seconds']:7.2f}s {ours['peak_mb']:6.0f} MB   "
                  f"throughput ratio {ratio:4.2f}", flush=True)
            for label, body in MORE_BARE.get(name, {}).items():
                other = _run(TIMED.format(path=str(path), body=body, libs=LIBS[name]))
                print(f"{'':5} {label:>15} {'':11}  bare {other['seconds']:7.2f}s {other['peak_mb']:6.0f} MB   "
                      f"{'':22}throughput ratio {other['seconds'] / ours['seconds']:4.2f}", flush=True)
    return 0
