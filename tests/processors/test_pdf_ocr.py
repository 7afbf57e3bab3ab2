"""OCR in the pdf processor: pages that are only a picture of text, made in the test."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.files import pdf_bytes
from processors import ocr
from processors.pdf import PdfProcessor
from processors.words import tokens
from pyramid_jobs import ProcessingError
from pyramid_jobs.context import JobContext
from pyramid_jobs.limits import limits_for
from pyramid_jobs.testing import run_processor

P = PdfProcessor()
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="Tesseract (tesserocr + tesseract-ocr-eng) not installed")

SCANNED = ["Scanned minutes of the harbour committee", "approved the lighthouse repairs"]
TYPED = "Typed introduction about municipal gardens"


def scanned_pdf(lines: list[str] = SCANNED, turn: Image.Transpose | None = None) -> bytes:
    """One page holding only an image of text at 300 dpi, as a scanner writes it (Pillow's PDF writer)."""
    image = Image.new("L", (2480, 800), 255)
    pen = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        pen.text((150, 150 + i * 110), line, font=ImageFont.load_default(size=60), fill=0)
    if turn is not None:
        image = image.transpose(turn)
    buf = io.BytesIO()
    image.save(buf, "PDF", resolution=300)
    return buf.getvalue()


def typed_pdf(text: str = TYPED) -> bytes:
    """One page with a real text layer (Helvetica), written by hand."""
    content = b"BT /F1 14 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return pdf_bytes(objects)


def joined(*parts: bytes) -> bytes:
    """The pages of several PDFs in one document (PDFium copies them)."""
    doc = pdfium.PdfDocument.new()
    for part in parts:
        doc.import_pages(pdfium.PdfDocument(part))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def run(tmp_path, data: bytes, **kw):
    path = tmp_path / "in.pdf"
    path.write_bytes(data)
    return run_processor(P, path, **kw)


def found(words: str | list[str], text: str) -> float:
    want = set(tokens(" ".join(words) if isinstance(words, list) else words))
    return len(want & set(tokens(text))) / len(want)


@needs_ocr
def test_scanned_page_gets_text_with_auto_and_none_with_never(tmp_path):
    r = run(tmp_path, scanned_pdf())
    text = r.artifacts["text.txt"].read_text()
    assert found(SCANNED, text) >= 0.9, text
    assert r.result["words"] >= 10 and "harbour" in r.result["preview"].lower()
    entry = r.result["ocr"]
    assert entry["mode"] == "auto" and entry["available"] and entry["languages"] == "eng"
    assert [p["page"] for p in entry["pages_recognised"]] == [1]
    assert entry["pages_recognised"][0]["confidence"] > 50 and entry["mean_confidence"] > 50
    assert "Recognise text" in r.step_names
    steps = [e for e in r.events if e["step_name"] == "Recognise text"]
    assert {e["total"] for e in steps} == {1} and steps[-1]["current"] == 1
    per_page = json.loads(r.artifacts["pages.json"].read_text())[0]
    assert per_page["ocr"]["confidence"] > 50

    r = run(tmp_path, scanned_pdf(), options={"ocr": "never"})
    assert found(SCANNED, r.artifacts["text.txt"].read_text()) == 0
    assert r.result["ocr"]["mode"] == "never" and r.result["ocr"]["pages_recognised"] == []
    assert r.result["pages_needing_ocr"] == [1]


@needs_ocr
def test_auto_reads_only_the_pages_without_text_always_reads_all(tmp_path):
    data = joined(typed_pdf(), scanned_pdf())
    r = run(tmp_path, data)
    pages = r.artifacts["text.txt"].read_text().split("\f")
    assert len(pages) == 2
    assert found(TYPED, pages[0]) == 1 and found(SCANNED, pages[1]) >= 0.9
    assert [p["page"] for p in r.result["ocr"]["pages_recognised"]] == [2]
    steps = [e for e in r.events if e["step_name"] == "Recognise text"]
    assert {e["total"] for e in steps} == {1}
    markdown = r.artifacts["text.md"].read_text()
    first, second = markdown.split("<!-- page 2 -->")
    assert "<!-- page 1 -->" in first and "municipal gardens" in first and "lighthouse" in second
    assert r.result["per_page"][1]["needs_ocr"] is False and r.result["pages_needing_ocr"] == []

    r = run(tmp_path, data, options={"ocr": "always"})
    assert [p["page"] for p in r.result["ocr"]["pages_recognised"]] == [1, 2]
    pages = r.artifacts["text.txt"].read_text().split("\f")
    assert found(TYPED, pages[0]) >= 0.8 and found(SCANNED, pages[1]) >= 0.9
    steps = [e for e in r.events if e["step_name"] == "Recognise text"]
    assert {e["total"] for e in steps} == {2} and "page 2 (2 of 2)" in [e["message"] for e in steps]


@needs_ocr
def test_scan_stored_sideways_is_read_as_the_page_shows_it(tmp_path):
    # the scanner stored the image turned a quarter left and set /Rotate 90 so viewers show it upright
    doc = pdfium.PdfDocument(scanned_pdf(turn=Image.Transpose.ROTATE_90))
    doc[0].set_rotation(90)
    buf = io.BytesIO()
    doc.save(buf)
    r = run(tmp_path, buf.getvalue())
    assert found(SCANNED, r.artifacts["text.txt"].read_text()) >= 0.9
    assert r.result["ocr"]["pages_recognised"][0]["confidence"] > 50


@pytest.mark.parametrize("options", [{"ocr": "sometimes"}, {"ocr_languages": "eng+nope"}])
def test_bad_ocr_options(tmp_path, options):
    if "ocr_languages" in options and not ocr.available():
        pytest.skip("no language list to check against")
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, scanned_pdf(), options=options)
    assert info.value.code == "bad_option"


def test_without_tesseract_the_pdf_job_succeeds_and_says_so(tmp_path, monkeypatch):
    empty = tmp_path / "no-tessdata"
    empty.mkdir()
    monkeypatch.setenv("TESSDATA_PREFIX", str(empty))
    r = run(tmp_path, scanned_pdf())
    assert r.result["pages_needing_ocr"] == [1]
    assert r.result["ocr"]["available"] is False and "not installed" in r.result["ocr"]["reason"]
    assert "pages_recognised" not in r.result["ocr"]


@needs_ocr
def test_api_refuses_a_bad_ocr_mode_and_lists_the_choices(app):
    res = app.post("/jobs", params={"options": json.dumps({"ocr": "sometimes"})},
                   upload_files=[("file", "scan.pdf", scanned_pdf())], status=400)
    assert res.json["error"]["code"] == "bad_option" and "auto" in res.json["error"]["message"]
    pdf = {p["name"]: p for p in app.get("/jobs/processors").json["processors"]}["pdf"]
    options = {o["name"]: o for o in pdf["options"]}
    assert options["ocr"]["choices"] == ["auto", "always", "never"] and options["ocr"]["default"] == "auto"
    assert "eng" in options["ocr_languages"]["choices"]
    assert pdf["capabilities"]["ocr"]["available"] is True


@needs_ocr
def test_scanned_pages_past_the_time_limit_stay_listed_as_needing_ocr(tmp_path):
    path = tmp_path / "in.pdf"
    path.write_bytes(joined(typed_pdf(), scanned_pdf()))
    deadline = time.monotonic() + ocr.Budget.RESERVE - 0.5  # no time for a page: the job still succeeds
    ctx = JobContext(path, out_dir=tmp_path / "out", steps=P.steps, deadline=deadline, limits=limits_for(P))
    result = P.process(ctx)
    assert result["ocr"]["pages_recognised"] == [] and result["pages_needing_ocr"] == [2]
    assert result["ocr"]["pages_failed"] == [{"page": 2, "reason": ocr.TIME_LIMIT_REASON}]
    assert found(TYPED, (tmp_path / "out" / "text.txt").read_text()) == 1


def test_render_resolution_fits_the_pixel_limit():
    from processors.pdfocr import render_dpi

    assert render_dpi(612, 792, 100_000_000) == 300, "a Letter page at 300 dpi is 8.4 megapixels"
    assert round(render_dpi(14400, 14400, 100_000_000)) == 50, "a 200-inch page would be 3.6 gigapixels"


@needs_ocr
def test_scan_fed_upside_down_is_turned_and_read(tmp_path):
    if "osd" not in ocr.installed_data():
        pytest.skip("Tesseract's orientation data (osd) not installed")
    r = run(tmp_path, scanned_pdf(turn=Image.Transpose.ROTATE_180))
    assert found(SCANNED, r.artifacts["text.txt"].read_text()) >= 0.9
    assert r.result["ocr"]["pages_recognised"][0]["turned"] == 180
    assert json.loads(r.artifacts["pages.json"].read_text())[0]["ocr"]["turned"] == 180


LAZY = """
import json, sys
from processors.pdf import PdfProcessor
from pyramid_jobs.testing import run_processor
first = run_processor(PdfProcessor(), sys.argv[1]).result["ocr"]
loaded_after_text = "tesserocr" in sys.modules
second = run_processor(PdfProcessor(), sys.argv[2]).result["ocr"]
print(json.dumps({"text": first, "loaded_after_text": loaded_after_text, "scan": second,
                  "loaded_after_scan": "tesserocr" in sys.modules}))
"""


def test_tesseract_is_loaded_only_for_a_page_to_recognise(tmp_path):
    (tmp_path / "typed.pdf").write_bytes(typed_pdf())
    (tmp_path / "scan.pdf").write_bytes(scanned_pdf())
    out = subprocess.run([sys.executable, "-c", LAZY, str(tmp_path / "typed.pdf"), str(tmp_path / "scan.pdf")],
                         capture_output=True, text=True, check=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["loaded_after_text"] is False
    assert answer["text"]["available"] is ocr.available()  # what GET /jobs/processors says
    assert answer["text"].get("pages_recognised", []) == []
    assert answer["loaded_after_scan"] is ocr.available()
    assert answer["scan"]["available"] is ocr.available(load=True)
