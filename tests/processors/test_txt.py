from __future__ import annotations

import codecs
import subprocess
import sys

import pytest

from processors.txt import CHUNK, TextProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = TextProcessor()


def run(tmp_path, data: bytes, **kw):
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    return run_processor(P, path, **kw)


@pytest.mark.parametrize(
    "data,encoding,bom",
    [
        (codecs.BOM_UTF8 + "héllo wörld\n".encode(), "utf-8", True),
        ("héllo wörld\n".encode("utf-16"), "utf-16-le", True),
        (codecs.BOM_UTF16_BE + "héllo wörld\n".encode("utf-16-be"), "utf-16-be", True),
        ("hello world, plain ascii\n".encode("utf-16-le"), "utf-16-le", False),
        ("héllo wörld\n".encode(), "utf-8", False),
    ],
)
def test_boms_and_unicode(tmp_path, data, encoding, bom):
    r = run(tmp_path, data).result
    assert r["encoding"] == encoding and r["bom"] is bom
    assert r["words"] in (2, 4) and "\ufeff" not in r["preview"]


def test_windows_western_text_prefers_cp1252(tmp_path):
    text = "Le naïve garçon a déjà mangé la crème brûlée à l'hôtel. " * 20
    r = run(tmp_path, text.encode("cp1252")).result
    assert r["encoding"] == "cp1252"
    assert "naïve" in r["preview"] and "déjà" in r["preview"]


def test_counts_newlines_and_words(tmp_path):
    r = run(tmp_path, b"one two\r\n\r\nthree one\r\nlast").result
    assert r["lines"] == 4 and r["blank_lines"] == 1 and r["words"] == 5 and r["characters"] == 26
    assert r["newline"] == "CRLF" and r["newlines"]["CRLF"] == 3
    assert r["top_words"][0] == {"word": "one", "count": 2}
    assert run(tmp_path, b"a\nb\rc\r\n").result["newline"] == "mixed"
    assert run(tmp_path, b"").result["lines"] == 0


def test_words_and_crlf_straddling_chunks(tmp_path):
    # a CRLF and a word cut exactly at the 1 MiB read boundary are counted once
    head = b"x" * (CHUNK - 1)
    r = run(tmp_path, head + b"\r\nsplitword tail\r\n").result
    assert r["newlines"]["CRLF"] == 2 and r["newlines"]["CR"] == 0 and r["lines"] == 2
    assert r["words"] == 3


def test_artifact_is_utf8_copy(tmp_path):
    data = "Привет, мир\n".encode("cp1251") * 50
    run_ = run(tmp_path, data)
    assert run_.artifacts["text.txt"].read_text(encoding="utf-8") == data.decode("cp1251")


def test_progress_by_declared_steps(tmp_path):
    run_ = run(tmp_path, b"word " * (3 * CHUNK // 5))
    assert run_.step_names == ["Detect encoding", "Read text", "Summarise"]
    reading = [e for e in run_.events if e["step_name"] == "Read text"]
    assert len(reading) >= 3 and reading[-1]["current"] == reading[-1]["total"]
    percents = [e["percent"] for e in run_.events]
    assert percents == sorted(percents) and percents[-1] == 100


def test_binary_is_refused(tmp_path):
    assert not P.sniff(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"\x00\x01\x02\x03" * 1000 + b"\xff\xfe\x00")
    assert info.value.code == "unsupported_content"


def test_bad_encoding_option(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"abc", options={"encoding": "klingon"})
    assert info.value.code == "bad_option"
    assert run(tmp_path, "é".encode("latin-1"), options={"encoding": "latin-1"}).result["characters"] == 1


def test_too_large(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"a" * 2000, limits={"max_text_size": 1000})
    assert info.value.code == "too_large"


def test_corpus(corpus):
    expected = {"txt_english.txt": ("utf-8", "sheep"), "txt_french_1.txt": ("cp1252", "molière"),
                "txt_russian_2.txt": ("utf-8", "в"), "txt_polish.txt": ("utf-8", "polish"),
                "txt_chinese.txt": ("big5", "wikipedia")}
    for name, (encoding, word) in expected.items():
        r = run_processor(P, corpus / name).result
        assert r["encoding"] == encoding, name
        assert word in {w["word"] for w in r["top_words"]} or word in r["preview"].lower(), name
        assert r["replacement_characters"] == 0, name


def _peak_kib(path) -> tuple[int, int]:
    code = (
        "import resource,sys;from processors.txt import TextProcessor;from pyramid_jobs.testing import run_processor;"
        f"r=run_processor(TextProcessor(), {str(path)!r}, interval=0.5).result;"
        "print(r['words'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.worker  # subprocesses on 80 MB: not part of the fast loop
def test_memory_stays_flat_on_a_large_file(tmp_path):
    """5 MB and 80 MB of text, each in a fresh process: peak RSS does not grow with the size."""
    line = ("the quick brown fox jumps over the lazy dog " * 4 + "\n").encode()
    peaks = {}
    for mb in (5, 80):
        path = tmp_path / f"{mb}.txt"
        n = mb * 1024 * 1024 // len(line)
        with open(path, "wb") as f:
            for _ in range(n // 1000):
                f.write(line * 1000)
        words, peaks[mb] = _peak_kib(path)
        assert words == 36 * (n // 1000) * 1000
    assert peaks[80] - peaks[5] < 40 * 1024, f"peak RSS grew from {peaks[5]} to {peaks[80]} KiB"
