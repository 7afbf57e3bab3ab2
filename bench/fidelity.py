"""Fidelity over a folder of real files: each processor against an independent reader of its format.

    python -m bench fidelity [--dir tests/corpus]

For every file: the outcome (succeeded, or failed with its code), the share of the reference
reader's distinct words that our text holds (recall), and, where markitdown is installed, the same
for markitdown's Markdown and for our ``text.md``. References: pdftotext (pdf), antiword (doc),
python-docx (docx), python-calamine (xlsx, xls, ods), pandas (csv), the file decoded as we report
it (txt). A file counts as *wrong* when it failed with ``processing_failed``, failed where the
reference reads it, or succeeded with a recall under 0.9.
"""
from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_REFUSALS = ("encrypted", "empty_file", "corrupt_file", "unsupported_content", "too_large")


def _words(text: str) -> set[str]:
    from processors.words import tokens

    return {w for w in tokens(text) if len(w) > 1}


def reference_text(path: Path) -> str | None:
    """What an independent reader finds in ``path`` (None when it cannot read it)."""
    ext = path.suffix.lower()
    try:
        if ext == ".pdf" and shutil.which("pdftotext"):
            out = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, timeout=60)
            return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None
        if ext == ".doc" and shutil.which("antiword"):
            out = subprocess.run(["antiword", str(path)], capture_output=True, timeout=60)
            return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None
        if ext == ".docx":
            import docx

            d = docx.Document(str(path))
            cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
            return "\n".join([p.text for p in d.paragraphs] + cells)
        if ext in (".xlsx", ".xlsm", ".xls", ".ods"):
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_path(str(path))
            return "\n".join(" ".join(map(str, row)) for name in wb.sheet_names
                             for row in wb.get_sheet_by_name(name).to_python())
        if ext in (".csv", ".tsv"):
            import pandas as pd

            # the csv processor reports columns, not the rows: its reference is the header
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, encoding_errors="replace", nrows=5)
            return " ".join(frame.columns.astype(str))
    except Exception:
        return None
    return None


def markitdown_text(path: Path) -> str | None:
    try:
        from markitdown import MarkItDown
    except ImportError:
        return None
    try:
        return MarkItDown().convert(str(path)).text_content
    except Exception:
        return None


def _run(path: str, queue: multiprocessing.Queue) -> None:
    from pyramid_jobs import ProcessingError
    from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
    from pyramid_jobs.testing import run_processor

    processors = ProcessorSet.from_plugin_manager(make_plugin_manager())
    processor = processors.for_filename(Path(path).name)
    if processor is None:
        queue.put(("no processor", "", ""))
        return
    out = Path(tempfile.mkdtemp(prefix="fidelity-"))
    try:
        run = run_processor(processor, path, out_dir=out)
    except ProcessingError as exc:
        queue.put((f"failed {exc.code}", "", ""))
        return
    except Exception as exc:  # what the runner would report as processing_failed
        queue.put((f"failed processing_failed ({type(exc).__name__})", "", ""))
        return
    text = "\n".join(p.read_text("utf-8", "replace") for n, p in run.artifacts.items()
                     if n.endswith(".txt") or n.endswith(".csv"))
    md = run.artifacts.get("text.md")
    queue.put(("succeeded", text, md.read_text("utf-8", "replace") if md else ""))
    shutil.rmtree(out, ignore_errors=True)


def outcome(path: Path, timeout: float = 120) -> tuple[str, str, str]:
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    # spawn, not fork: the parent has pandas' and calamine's threads running
    proc = multiprocessing.get_context("spawn").Process(target=_run, args=(str(path), queue))
    proc.start()
    try:
        return queue.get(timeout=timeout)
    except Exception:
        return (f"failed: no answer within {timeout:.0f}s", "", "")
    finally:
        proc.kill()
        proc.join()


def _recall(ref: set[str], ours: str) -> float | None:
    return len(ref & _words(ours)) / len(ref) if ref else None


def main(args: list[str]) -> int:
    folder = Path(args[args.index("--dir") + 1]) if "--dir" in args else ROOT / "tests" / "corpus"
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() not in (".tsv", ".md")
                   or p.suffix.lower() == ".tsv" and p.name != "MANIFEST.tsv")
    counts = {"succeeded": 0, "right failure": 0, "wrong": 0}
    print(f"{'file':42} {'outcome':34} {'recall':>6} {'md':>6} {'markitdown':>10}  verdict")
    for path in files:
        state, text, md = outcome(path)
        ref_text = reference_text(path)
        ref = _words(ref_text) if ref_text else set()
        recall = _recall(ref, text) if state == "succeeded" else None
        md_recall = _recall(ref, md) if state == "succeeded" and md else None
        theirs = markitdown_text(path) if "--markitdown" in args else None
        mk_recall = _recall(ref, theirs) if theirs is not None else None
        if state == "succeeded":
            verdict = "succeeded" if recall is None or len(ref) < 20 or recall >= 0.9 else "wrong"
        elif "processing_failed" in state or "no answer" in state or state == "no processor":
            verdict = "wrong"
        else:
            readable = len(ref) >= 20 and not any(c in state for c in ("encrypted", "empty_file"))
            verdict = "wrong" if readable else "right failure"
        counts[verdict] += 1
        show = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"{path.name[:42]:42} {state[:34]:34} {show(recall):>6} {show(md_recall):>6} {show(mk_recall):>10}"
              f"  {verdict}", flush=True)
    print(f"   {len(files)} files: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
