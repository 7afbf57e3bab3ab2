"""The pdf processor with PDFium in its reading thread (as shipped) and in the caller's thread, each
with glibc's malloc left alone and tuned, next to ``pdftotext`` on the same books in the same run.

What it answers: whether the reading thread pays, and whether keeping freed heap memory
(``mallopt``) speeds PDFium up inside the processor as it does in a bare main-thread loop. Every
run is a fresh process (``bench.common.run_measured``); variants are interleaved, best of
``--rounds`` (5) by wall time; minor page faults are the process's during the job.

    python -m bench pdf_designs [--rounds=N]
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from . import files
from .common import run_measured

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MB = 1 << 20

RUN = """
import contextlib, ctypes, json, resource, sys, time
libc = ctypes.CDLL(None)
for param, value in {mallopt!r}:
    assert libc.mallopt(param, value) == 1
from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.testing import run_processor
processor = ProcessorSet.from_plugin_manager(make_plugin_manager()).get("pdf")
import pypdf, pypdfium2, processors.pdf
if {main_thread!r}:  # every page read where the rest of the work runs
    processors.pdf.read_ahead = lambda source, want: contextlib.nullcontext(
        (i, source.read(i, want)) for i in range(source.count))
faults, t, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter(), time.process_time()
run_processor(processor, sys.argv[1], interval=0.5)
print(json.dumps({{"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu,
                  "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults}}))
"""

PDFTOTEXT = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(["pdftotext", "-enc", "UTF-8", sys.argv[1], sys.argv[1] + ".txt"], check=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": usage.ru_utime + usage.ru_stime,
                  "faults": usage.ru_minflt}))
"""

VARIANTS = {
    "reading thread (shipped)": (False, ()),
    "reading thread, M_TOP_PAD 4 MB": (False, ((M_TOP_PAD, 4 * MB),)),
    "reading thread, M_MMAP_THRESHOLD 4 MB + M_TRIM_THRESHOLD 8 MB": (
        False, ((M_MMAP_THRESHOLD, 4 * MB), (M_TRIM_THRESHOLD, 8 * MB))),
    "main thread": (True, ()),
    "main thread, M_TOP_PAD 4 MB": (True, ((M_TOP_PAD, 4 * MB),)),
}


def main(argv: list[str]) -> int:
    rounds = int(next((a.split("=", 1)[1] for a in argv if a.startswith("--rounds=")), 5))
    with tempfile.TemporaryDirectory(prefix="pj-bench-") as d:
        tmp = Path(d)
        books = {"100 pages, Helvetica": files.pdf_file(tmp / "100.pdf", 100),
                 "117-page TeX book": files.tex_book_pdf(tmp / "texbook.pdf", 117),
                 "117-page std14 book": files.book_pdf(tmp / "book.pdf", 117)}
        if files.has_groff():
            books["118-page groff book"] = files.groff_book_pdf(tmp / "groff.pdf")
        codes = {label: RUN.format(main_thread=main_thread, mallopt=list(mallopt))
                 for label, (main_thread, mallopt) in VARIANTS.items()}
        if shutil.which("pdftotext"):
            codes["pdftotext"] = PDFTOTEXT
        for book, path in books.items():
            best: dict[str, dict] = {}
            for _ in range(rounds):
                for label, code in codes.items():
                    run = run_measured(code, str(path))
                    if label not in best or run["seconds"] < best[label]["seconds"]:
                        best[label] = run
            print(f"{book} (best of {rounds})", flush=True)
            for label, run in best.items():
                print(f"  {label:62} {run['seconds']:6.3f}s (CPU {run['cpu']:.3f}s) {run['faults']:6d} faults",
                      flush=True)
    return 0
