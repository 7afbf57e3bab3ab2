"""Per-file word recall of the pdf processor against pdftotext, over the pdfs in tests/corpus.

Recall is the share of pdftotext's distinct words (``processors.words.tokens``) that the pdf
processor's ``text.txt`` holds too. pdftotext writes right-to-left text in visual order, so a
word also counts as found when its reverse is (extractors disagree on right-to-left order).
Also printed: the words only we have
(precision's side), so a gain that is really noise (stray glyphs) shows.

    python -m bench pdf_recall
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .common import ROOT

CORPUS = ROOT / "tests" / "corpus"
PASSWORDS = {"pdf_encrypted.pdf": "openpassword"}  # public sample's documented password (MANIFEST.tsv)


def _words(text: str) -> set[str]:
    from processors.words import tokens

    return set(tokens(text))


def _pdftotext(path: Path, password: str | None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-upw", password] if password else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _ours(path: Path, password: str | None) -> str:
    from processors.pdf import PdfProcessor
    from pyramid_jobs.testing import run_processor

    with tempfile.TemporaryDirectory(prefix="pj-recall-") as d:
        run = run_processor(PdfProcessor(), path, out_dir=d, options={"password": password} if password else None)
        return run.artifacts["text.txt"].read_text(encoding="utf-8")


def recall(path: Path) -> tuple[float, int, int]:
    """(recall, reference words, words only we have) for one file."""
    password = PASSWORDS.get(path.name)
    theirs = _words(_pdftotext(path, password))
    ours = _words(_ours(path, password))
    found = sum(1 for w in theirs if w in ours or w[::-1] in ours)
    extra = sum(1 for w in ours if w not in theirs and w[::-1] not in theirs)
    return (found / len(theirs) if theirs else 1.0), len(theirs), extra


def main(argv: list[str]) -> int:
    if shutil.which("pdftotext") is None:
        print("pdftotext (poppler-utils) is needed for this benchmark")
        return 1
    print(f"{'file':24} {'recall':>7} {'ref words':>9} {'only ours':>9}")
    for path in sorted(CORPUS.glob("*.pdf")):
        r, n, extra = recall(path)
        print(f"{path.name:24} {r:7.3f} {n:9d} {extra:9d}", flush=True)
    return 0
