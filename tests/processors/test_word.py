"""docx and doc processors: generated files, the corpus against independent extractors, hostile files."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import zipfile

import docx
import pytest

from processors.doc import DocProcessor
from processors.docx import DocxProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

DOCX, DOC = DocxProcessor(), DocProcessor()


def make_docx(path):
    d = docx.Document()
    d.core_properties.title = "Quarterly <report>"
    d.core_properties.author = "Ann"
    d.add_heading("Intro", level=1)
    d.add_paragraph("First paragraph with five words.")
    d.add_heading("Details", level=2)
    table = d.add_table(rows=3, cols=2)
    for r in range(3):
        for c in range(2):
            table.cell(r, c).text = f"r{r}c{c}"
    d.add_paragraph("After the table.")
    comment_para = d.add_paragraph("Commented text")
    d.add_comment(comment_para.runs, text="Check this", author="Bob", initials="B")
    d.save(path)
    return path


def test_docx_generated(tmp_path):
    run = run_processor(DOCX, make_docx(tmp_path / "a.docx"))
    r = run.result
    assert r["properties"]["title"] == "Quarterly <report>" and r["properties"]["author"] == "Ann"
    assert [(o["level"], o["text"]) for o in r["outline"]] == [(1, "Intro"), (2, "Details")]
    assert r["tables"] == 1 and r["table_previews"][0]["first_rows"][2] == ["r2c0", "r2c1"]
    assert r["comments"][0]["author"] == "Bob" and r["comments"][0]["text"] == "Check this"
    text = run.artifacts["text.txt"].read_text()
    assert text.index("Intro") < text.index("r1c1") < text.index("After the table.")
    assert r["words"] == len(re.findall(r"\w+", text))
    assert run.step_names == ["Open", "Extract text", "Summarise"]
    assert run.artifacts["outline.json"].exists()


def test_docx_corpus_matches_python_docx(corpus):
    for path in sorted(corpus.glob("docx_*.docx")):
        r = run_processor(DOCX, path)
        ours = r.artifacts["text.txt"].read_text()
        for p in docx.Document(str(path)).paragraphs:
            assert p.text in ours, (path.name, p.text)
    links = run_processor(DOCX, corpus / "docx_par_hyperlinks.docx").result["hyperlinks"]
    assert links and all(link["url"] for link in links)
    assert run_processor(DOCX, corpus / "docx_comments_rich_para.docx").result["comments"]
    hf = run_processor(DOCX, corpus / "docx_hdr_header_footer.docx").result["headers_footers"]
    assert hf[0]["text"] == "Header for section-1"


def _zip(path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_docx_zip_bomb(tmp_path):
    bomb = _zip(tmp_path / "bomb.docx", {"word/document.xml": b"<a>" + b" " * (50 * 1024 * 1024) + b"</a>"})
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, bomb)
    assert info.value.code == "too_large"


def test_docx_too_many_entries(tmp_path):
    many = _zip(tmp_path / "many.docx", {"word/document.xml": b"<a/>", **{f"x/{i}": b"" for i in range(50)}})
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, many, limits={"max_zip_entries": 20})
    assert info.value.code == "too_large"


def test_docx_entity_bomb_is_not_expanded(tmp_path):
    src = make_docx(tmp_path / "src.docx")
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    lol = b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10) for i in range(8)
    ) + b"]>"
    xml = members["word/document.xml"]
    members["word/document.xml"] = xml.replace(b"?>", b"?>" + lol, 1).replace(b"First paragraph", b"&i; paragraph")
    started = time.monotonic()
    try:
        r = run_processor(DOCX, _zip(tmp_path / "lol.docx", members)).result
        assert r["characters"] < 10_000, "entities are never expanded"
    except ProcessingError as exc:
        assert exc.code in ("corrupt_file", "unsupported_content")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("data,code", [
    (b"", "empty_file"),
    (b"PK\x03\x04 not really a zip", "corrupt_file"),
    (b"hello", "corrupt_file"),
])
def test_docx_bad_files(tmp_path, data, code):
    (tmp_path / "x.docx").write_bytes(data)
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, tmp_path / "x.docx")
    assert info.value.code == code


def test_docx_not_word(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, _zip(tmp_path / "x.docx", {"xl/workbook.xml": b"<a/>"}))
    assert info.value.code == "unsupported_content"


def test_encrypted_ooxml_is_encrypted(corpus):
    with pytest.raises(ProcessingError) as info:
        run_processor(DOCX, corpus / "xlsx_pass_protected.xlsx")  # an encrypted OOXML package: an OLE file
    assert info.value.code == "encrypted"


EXPECTED_DOC = {
    "doc_textract.doc": "I love word documents",
    "doc_poi_SampleDoc.doc": "I am a test document",
    "doc_poi_Word6.doc": "The quick brown fox jumps over the lazy dog",
    "doc_poi_Word95.doc": "Paragraph 2",
    "doc_poi_Lists.doc": "This document has different lists in it for testing",
    "doc_poi_simple_table.doc": "Cell 1,2",
}


def test_doc_corpus(corpus):
    for name, expected in EXPECTED_DOC.items():
        run = run_processor(DOC, corpus / name)
        assert expected in run.artifacts["text.txt"].read_text(), name
        assert run.result["words"] > 0
    r = run_processor(DOC, corpus / "doc_poi_SampleDoc.doc").result
    assert r["properties"]["author"] == "Nick Burch" and r["properties"]["title"] == "Test Document"
    assert run_processor(DOC, corpus / "doc_poi_empty.doc").result["words"] == 0
    for name in ("doc_encrypted.doc", "doc_poi_PasswordProtected.doc"):
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, corpus / name)
        assert info.value.code == "encrypted", name


def test_doc_fuzzed_corpus_file_ends_cleanly(corpus):
    run = run_processor(DOC, corpus / "doc_poi_Fuzzed.doc")  # damaged, but its text is still readable
    assert run.result["words"] > 0 and run.artifacts["text.txt"].stat().st_size > 0


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword not installed")
def test_doc_text_holds_what_antiword_finds(corpus, tmp_path):
    for name in EXPECTED_DOC:
        if "Word6" in name or "Word95" in name:
            continue  # antiword reads Word 6/95 poorly
        theirs = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", subprocess.run(
            ["antiword", str(corpus / name)], capture_output=True, text=True).stdout)}
        run = run_processor(DOC, corpus / name, out_dir=tmp_path / name)
        ours = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", run.artifacts["text.txt"].read_text())}
        missing = theirs - ours
        assert len(missing) <= 0.05 * max(len(theirs), 1), (name, sorted(missing)[:20])


def test_doc_lookalikes(tmp_path, corpus):
    (tmp_path / "rtf.doc").write_bytes(b"{\\rtf1\\ansi hello}")
    (tmp_path / "web.doc").write_bytes(b"<html><body>hi</body></html>")
    for name in ("rtf.doc", "web.doc"):
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, tmp_path / name)
        assert info.value.code == "unsupported_content" and ".docx" in info.value.message
    shutil.copy(corpus / "docx_paragraphs_tables.docx", tmp_path / "really.doc")
    r = run_processor(DOC, tmp_path / "really.doc").result
    assert r["format"].startswith("docx") and r["tables"] == 1
    with pytest.raises(ProcessingError) as info:
        run_processor(DOC, corpus / "xlsx_pass_protected.xlsx")
    assert info.value.code == "encrypted"


def test_doc_truncated_and_out_of_range(tmp_path, corpus):
    data = (corpus / "doc_textract.doc").read_bytes()
    for i, cut in enumerate((len(data) // 2, 600, 4096)):
        path = tmp_path / f"cut{i}.doc"
        path.write_bytes(data[:cut])
        with pytest.raises(ProcessingError) as info:
            run_processor(DOC, path)
        assert info.value.code == "corrupt_file", cut
    import olefile

    src = tmp_path / "bad.doc"
    shutil.copy(corpus / "doc_textract.doc", src)
    with olefile.OleFileIO(str(src), write_mode=True) as ole:
        word = bytearray(ole.openstream("WordDocument").read())
        word[0x01A2:0x01A6] = (0x7FFFFFF0).to_bytes(4, "little")  # fcClx far past the table stream
        ole.write_stream("WordDocument", bytes(word))
    with pytest.raises(ProcessingError) as info:
        run_processor(DOC, src)
    assert info.value.code == "corrupt_file"
