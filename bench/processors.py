"""Each processor next to the bare library call it is built on, on the same file in the same run.

Every measurement runs in a fresh subprocess started by a small launcher, so peak RSS is that run's
alone (``bench.common.run_measured``).

    python -m bench processors [--quick] [--only=docx,pdf,...] [--rounds=N]
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from . import files
from .common import run_measured

OURS = """
import json, resource, sys, time
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get(sys.argv[1])
import {libs}  # imported before the clock starts, as in the bare runs
processor.warm()  # as a worker does before it forks job processes: the steady state is measured
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

PDFIUM_LOOP = """
import pypdfium2 as pdfium
doc = pdfium.PdfDocument(PATH)
text = []
for i in range(len(doc)):
    page = doc[i]
    textpage = page.get_textpage()
    text.append(textpage.get_text_range())
    textpage.close()
    page.close()
"""

# Other readers of the same format, timed on the same file in the same run and printed beside ours.
OTHERS = {
    "pdf": {
        "pypdfium2": ("pypdfium2", PDFIUM_LOOP),
        # glibc hands the memory of each freed text page back to the system and faults it in again for
        # the next: in a main-thread loop a third of PDFium's time. Kept (M_TOP_PAD), PDFium's own floor.
        "pypdfium2, heap kept": ("ctypes, pypdfium2", "\nctypes.CDLL(None).mallopt(-2, 4 << 20)" + PDFIUM_LOOP),
        "pdftotext": ("subprocess", """
subprocess.run(["pdftotext", "-enc", "UTF-8", PATH, PATH + ".txt"], check=True, capture_output=True)
"""),
    },
    "xlsx": {
        "openpyxl read-only": ("openpyxl", """
import openpyxl
wb = openpyxl.load_workbook(PATH, read_only=True, data_only=True)
for ws in wb.worksheets:
    for row in ws.iter_rows(values_only=True):
        pass
"""),
    },
    "csv": {
        "read_csv whole": ("pandas", """
import pandas as pd
frame = pd.read_csv(PATH)
"""),
    },
}

LIBS = {"csv": "pandas", "pdf": "pypdf, pypdfium2", "xlsx": "python_calamine", "docx": "docx", "txt": "re"}


def _ours(name: str) -> str:
    return OURS.replace("{libs}", LIBS[name])


TIMED = """
import json, resource, time
import {libs}  # imported before the clock starts: import time is no one's throughput
PATH = {path!r}
def cpu_now():  # this process's CPU and its finished children's (pdftotext)
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))
t, cpu = time.perf_counter(), cpu_now()
{body}
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": cpu_now() - cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _run(code: str, *args: str) -> dict:
    """A fresh child per measurement; its peak RSS read by a launcher of its own (bench.common)."""
    return run_measured(code, *args)


def cases(quick: bool, tmp: Path, only: set[str] = frozenset()) -> list[tuple[str, str, Path]]:
    """The files to measure (only the formats in ``only``, when given), made on the spot."""
    if only:
        return [(name, size, make()) for name, size, make in _makers(quick, tmp) if name in only]
    return [(name, size, make()) for name, size, make in _makers(quick, tmp)]


def _makers(quick: bool, tmp: Path) -> list[tuple[str, str, Callable[[], Path]]]:
    csv_sizes = (5,) if quick else (10, 100)
    pdf_pages = (10,) if quick else (10, 100)
    out = [("csv", f"{mb} MB", partial(files.csv_file, tmp / f"{mb}.csv", mb)) for mb in csv_sizes]
    out += [("pdf", f"{n} pages", partial(files.pdf_file, tmp / f"{n}.pdf", n)) for n in pdf_pages]
    out.append(("pdf", "117-page TeX book", partial(files.tex_book_pdf, tmp / "texbook.pdf", 117)))
    out.append(("pdf", "117-page std14 book", partial(files.book_pdf, tmp / "book.pdf", 117)))
    if files.has_groff():  # a real producer's non-embedded fonts, where groff is installed
        out.append(("pdf", "118-page groff book", partial(files.groff_book_pdf, tmp / "groff.pdf")))
    xlsx_rows = (20_000,) if quick else (100_000, 200_000)  # two sizes: memory must stay flat
    out += [("xlsx", f"{n // 1000}k rows x 10", partial(files.xlsx_file, tmp / f"{n}.xlsx", n)) for n in xlsx_rows]
    out.append(("docx", "2k paragraphs" if quick else "20k paragraphs",
                partial(files.docx_file, tmp / "t.docx", 2_000 if quick else 20_000)))
    out.append(("txt", "10 MB" if quick else "100 MB", partial(files.txt_file, tmp / "t.txt", 10 if quick else 100)))
    return out


def _others(name: str, path: Path, ours_code: str, rounds: int) -> None:
    """Ours and each other reader of the format on the same file, interleaved ``rounds`` times, best
    run of each (the machine is shared: the best run is the one least disturbed)."""
    others = {label: code for label, code in OTHERS.get(name, {}).items()
              if label != "pdftotext" or shutil.which("pdftotext")}
    if not others:
        return
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for label, (libs, body) in others.items():
            run = _run(TIMED.format(path=str(path), body=body, libs=libs))
            if label not in best or run["seconds"] < best[label]["seconds"]:
                best[label] = run
        run = _run(ours_code, name, str(path))
        if "ours" not in best or run["seconds"] < best["ours"]["seconds"]:
            best["ours"] = run
    ours = best["ours"]
    for label in others:
        other = best[label]
        print(f"{'':22} {label:>20} {other['seconds']:7.3f}s (CPU {other['cpu']:.3f}s) {other['peak_mb']:4.0f} MB   "
              f"ours {ours['seconds']:7.3f}s (CPU {ours['cpu']:.3f}s)   ours / {label} speed "
              f"{other['seconds'] / ours['seconds']:4.2f}   (best of {rounds})", flush=True)


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = {f for a in argv if a.startswith(("--format=", "--only=")) for f in a.split("=", 1)[1].split(",")}
    rounds = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--rounds=")), 1 if quick else 3))
    rows = []
    with tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        for name, size, path in cases(quick, Path(d), only):
            bare = _run(TIMED.format(path=str(path), body=BARE[name], libs=LIBS[name]))
            ours = _run(_ours(name), name, str(path))
            ratio = bare["seconds"] / ours["seconds"]
            rows.append((name, size, path.stat().st_size / 1e6, bare, ours, ratio))
            print(f"{name:5} {size:>15} {path.stat().st_size / 1e6:8.1f} MB  bare {bare['seconds']:7.2f}s "
                  f"{bare['peak_mb']:6.0f} MB   ours {ours['seconds']:7.2f}s {ours['peak_mb']:6.0f} MB   "
                  f"throughput ratio {ratio:4.2f} (CPU time {bare['cpu'] / max(ours['cpu'], 1e-9):4.2f})", flush=True)
            _others(name, path, _ours(name), rounds)
    return 0
