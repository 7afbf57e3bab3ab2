from __future__ import annotations

import re
import shutil
import subprocess
import time
import zlib

import pytest

from processors.pdf import PdfProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = PdfProcessor()


def make_pdf(pages: list[bytes], *, extra_objects: list[bytes] | None = None, compress: bool = False) -> bytes:
    """A well-formed PDF with one content stream per page, written by hand so tests control every byte."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages (filled below)
    kids = []
    font = len(objects) + 1
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for content in pages:
        data = zlib.compress(content) if compress else content
        filt = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), filt) + data + b"\nendstream")
        stream_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (stream_id, font))
        kids.append(b"%d 0 R" % len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    objects += extra_objects or []
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_page(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 712 Td (" + text.encode("latin-1") + b") Tj ET"


def run(tmp_path, data: bytes, **kw):
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    return run_processor(P, path, **kw)


def test_pages_text_and_progress(tmp_path):
    data = make_pdf([text_page(f"Hello page {i}") for i in range(1, 6)] + [b""], compress=True)
    r = run(tmp_path, data)
    assert r.result["pages"] == 6 and r.result["pdf_version"] == "1.7"
    assert [p["characters"] > 0 for p in r.result["per_page"]] == [True] * 5 + [False]
    text = r.artifacts["text.txt"].read_text()
    assert text.split("\f")[2].strip() == "Hello page 3"
    assert r.step_names == ["Open", "Extract text", "Summarise"]
    messages = [e["message"] for e in r.events if e["step_name"] == "Extract text"]
    assert "page 3 of 6" in messages
    assert r.result["pages_needing_ocr"] == [], "an empty page is blank, not a scan"


def test_image_only_page_needs_ocr(tmp_path):
    image = b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray " \
            b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x00\nendstream"
    data = make_pdf([b"q 100 0 0 100 0 0 cm /Im1 Do Q"], extra_objects=[image])
    data = data.replace(b"/Resources << /Font << /F1 3 0 R >> >>",
                        b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 6 0 R >> >>")
    r = run(tmp_path, data).result
    assert r["pages_needing_ocr"] == [1] and r["per_page"][0]["needs_ocr"] is True


def test_max_pages(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, make_pdf([text_page("x")] * 3), limits={"max_pages": 2})
    assert info.value.code == "too_large"


def test_decompression_bomb_is_reported_not_blank(tmp_path):
    bomb = b"BT /F1 12 Tf 72 712 Td (boom) Tj ET " + b" " * (8 * 1024 * 1024)
    data = make_pdf([text_page("fine page"), bomb], compress=True)
    started = time.monotonic()
    r = run(tmp_path, data, limits={"max_stream_size": 1024 * 1024}).result
    assert time.monotonic() - started < 30
    assert r["per_page"][0]["characters"] > 0
    assert [s["page"] for s in r["pages_skipped"]] == [2] and "limit" in r["pages_skipped"][0]["reason"]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n" + b"\x00garbage" * 100,
        make_pdf([text_page("x")])[:60],
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R] "
        b"/Count 1 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
    ids=["garbage", "truncated", "page-tree-loop"],
)
def test_hostile_files_end_with_a_code(tmp_path, data):
    started = time.monotonic()
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data)
    assert info.value.code in ("corrupt_file", "too_large", "empty_file")
    assert time.monotonic() - started < 30


def test_empty_file(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, b"")
    assert info.value.code == "empty_file"


def test_sniff():
    assert P.sniff(b"%PDF-1.7\n...") and P.sniff(b"\xef\xbb\xbf junk %PDF-1.4")
    assert not P.sniff(b"PK\x03\x04") and not P.sniff(b"hello")


def test_encrypted_corpus(corpus):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "pdf_encrypted.pdf")
    assert info.value.code == "encrypted" and "password" in info.value.message
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "pdf_encrypted.pdf", options={"password": "wrong"})
    assert info.value.code == "encrypted"
    r = run_processor(P, corpus / "pdf_encrypted.pdf", options={"password": "openpassword"}).result
    assert r["encryption"]["encrypted"] and "Lorem ipsum" in r["preview"]


def test_corpus_metadata_outline_forms(corpus):
    outline = run_processor(P, corpus / "pdf_outline.pdf").result
    assert outline["pages"] == 4 and len(outline["outline"]) >= 3
    assert all(o["page"] and 1 <= o["page"] <= 4 for o in outline["outline"])
    forms = run_processor(P, corpus / "pdf_forms.pdf").result
    assert len(forms["form_fields"]) >= 2 and {f["type"] for f in forms["form_fields"]} & {"text", "button"}
    gdoc = run_processor(P, corpus / "pdf_google_docs.pdf").result
    assert gdoc["info"]["title"] == "PDF Example Document"
    arabic = run_processor(P, corpus / "pdf_arabic.pdf").result
    assert "حَبيبي" in arabic["preview"]


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]{4,}", text)}


@pytest.mark.parametrize("name", ["pdf_minimal.pdf", "pdf_4_pages.pdf", "pdf_multicolumn.pdf", "pdf_outline.pdf",
                                  "pdf_google_docs.pdf", "pdf_textract.pdf", "pdf_forms.pdf"])
def test_corpus_text_holds_what_pdftotext_finds(corpus, name, tmp_path):
    run_ = run_processor(P, corpus / name, out_dir=tmp_path)
    ours = _words(run_.artifacts["text.txt"].read_text())
    assert ours, name
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed: the yardstick comparison is skipped")
    theirs = _words(subprocess.run(["pdftotext", str(corpus / name), "-"], capture_output=True, text=True).stdout)
    missing = theirs - ours
    assert len(missing) <= 0.05 * len(theirs), f"{name}: {sorted(missing)[:20]}"
