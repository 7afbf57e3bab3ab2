"""Each processor next to the bare library call it is built on, on the same file in the same run.

Every measurement runs in a fresh subprocess started by a small launcher, so peak RSS is that run's
alone (``bench.common.run_measured``).

    python -m bench processors [--quick] [--only=xlsx,csv]
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from . import files
from .common import run_measured

OURS = """
import json, resource, sys, time
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get(sys.argv[1])
import {libs}  # imported before the clock starts, as in the bare runs
t, cpu = time.perf_counter(), time.process_time()
run_processor(processor, sys.argv[2], interval=0.5)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu,
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
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(PATH)
for name in wb.sheet_names:
    for row in wb.get_sheet_by_name(name).iter_rows():
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

LIBS = {"csv": "pandas", "pdf": "pypdf", "xlsx": "python_calamine", "docx": "docx", "txt": "re"}

# slower readers shown for reference (not the yardstick): name -> (library to import, code)
REFERENCE = {
    "xlsx": ("openpyxl", """
import openpyxl
wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True)
for ws in wb.worksheets:
    for row in ws.iter_rows(values_only=True):
        pass
"""),
}

TIMED = """
import json, resource, time
import {libs}  # imported before the clock starts: import time is no one's throughput
PATH = {path!r}
t, cpu = time.perf_counter(), time.process_time()
{body}
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _run(code: str, *args: str) -> dict:
    """A fresh child per measurement; its peak RSS read by a launcher of its own (bench.common)."""
    return run_measured(code, *args)


def cases(quick: bool, tmp: Path, only: set[str] | None = None) -> list[tuple[str, str, Path]]:
    """(processor, size label, generated file); ``only`` limits them to some processors (files are made
    only for those)."""
    csv_sizes = (5,) if quick else (10, 100)
    pdf_pages = (10,) if quick else (10, 100)
    xlsx_rows = (20_000,) if quick else (100_000, 200_000)  # two sizes: memory must stay flat
    makers = {
        "csv": [(f"{mb} MB", lambda mb=mb: files.csv_file(tmp / f"{mb}.csv", mb)) for mb in csv_sizes],
        "pdf": [(f"{n} pages", lambda n=n: files.pdf_file(tmp / f"{n}.pdf", n)) for n in pdf_pages],
        "xlsx": [(f"{n // 1000}k rows x 10", lambda n=n: files.xlsx_file(tmp / f"{n}.xlsx", n)) for n in xlsx_rows],
        "docx": [("2k paragraphs" if quick else "20k paragraphs",
                  lambda: files.docx_file(tmp / "t.docx", 2_000 if quick else 20_000))],
        "txt": [("10 MB" if quick else "100 MB", lambda: files.txt_file(tmp / "t.txt", 10 if quick else 100))],
    }
    return [(name, label, make()) for name, made in makers.items() if only is None or name in only
            for label, make in made]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    picked = [a.split("=", 1)[1] for a in argv if a.startswith("--only=")]
    only = set(",".join(picked).split(",")) if picked else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        for name, size, path in cases(quick, Path(d), only):
            bare = _run(TIMED.format(path=str(path), body=BARE[name], libs=LIBS[name]))
            ours = _run(OURS.replace("{libs}", LIBS[name]), name, str(path))
            ratio = bare["seconds"] / ours["seconds"]
            rows.append((name, size, path.stat().st_size / 1e6, bare, ours, ratio))
            print(f"{name:5} {size:>15} {path.stat().st_size / 1e6:8.1f} MB  bare {bare['seconds']:7.2f}s "
                  f"{bare['peak_mb']:6.0f} MB   ours {ours['seconds']:7.2f}s {ours['peak_mb']:6.0f} MB   "
                  f"throughput ratio {ratio:4.2f} (CPU time {bare['cpu'] / ours['cpu']:4.2f})", flush=True)
            if name in REFERENCE and not quick:
                lib, body = REFERENCE[name]
                ref = _run(TIMED.format(path=str(path), body=body, libs=lib))
                print(f"{'':5} {'':>15} {'':8}     {lib} {ref['seconds']:7.2f}s {ref['peak_mb']:6.0f} MB   "
                      f"(reference; ours is {ref['seconds'] / ours['seconds']:4.2f}x its speed, CPU time "
                      f"{ref['cpu'] / ours['cpu']:4.2f}x)", flush=True)
    return 0
