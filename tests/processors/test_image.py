"""The image processor and the OCR module, on images drawn in the test from known text."""
from __future__ import annotations

import io
import os
import struct
import time
import zlib

import pytest
from PIL import Image, ImageDraw, ImageFont

from processors import ocr
from processors.image import ImageProcessor
from processors.words import tokens
from pyramid_jobs import ProcessingError
from pyramid_jobs.context import JobContext
from pyramid_jobs.limits import limits_for
from pyramid_jobs.testing import run_processor

P = ImageProcessor()
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="Tesseract (tesserocr + tesseract-ocr-eng) not installed")

FIRST = ["Quarterly revenue grew seven percent", "while shipping costs fell sharply"]
SECOND = ["Second page mentions harbour lighthouses", "and eleven wooden boats"]


def draw(lines: list[str], *, mode: str = "L", size: tuple[int, int] = (1400, 300), ink=0, paper=255) -> Image.Image:
    """Text drawn with Pillow's bundled TrueType font (no system font needed), 40 px high."""
    font = ImageFont.load_default(size=40)
    image = Image.new(mode, size, paper)
    pen = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        pen.text((50, 50 + i * 90), line, font=font, fill=ink)
    return image


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def run(tmp_path, data: bytes, name: str = "scan.png", **kw):
    path = tmp_path / name
    path.write_bytes(data)
    return run_processor(P, path, **kw)


def words_of(lines: list[str]) -> set[str]:
    return set(tokens(" ".join(lines)))


def recall(expected: set[str], text: str) -> float:
    return len(expected & set(tokens(text))) / len(expected)


@needs_ocr
def test_ocr_module_reads_known_text():
    text, confidence = ocr.recognise(draw(FIRST), "eng")
    assert recall(words_of(FIRST), text) >= 0.9, text
    assert 50 <= confidence <= 100
    assert "eng" in ocr.languages() and "osd" not in ocr.languages()
    with pytest.raises(ValueError, match="no language 'klingon'"):
        ocr.check_languages("eng+klingon")
    with pytest.raises(ValueError):
        ocr.check_languages("../../etc/passwd")


@needs_ocr
def test_png_text_comes_back_with_confidence_and_artifacts(tmp_path):
    r = run(tmp_path, encode(draw(FIRST), "PNG", dpi=(300, 300)))
    res = r.result
    assert res["format"] == "PNG" and res["pages"] == 1 and (res["width"], res["height"]) == (1400, 300)
    assert res["dpi"] == 300 and res["ocr"]["available"] and res["ocr"]["languages"] == "eng"
    text = r.artifacts["text.txt"].read_text()
    assert recall(words_of(FIRST), text) >= 0.9, text
    assert res["words"] >= 10 and res["mean_confidence"] > 50
    assert res["pages_recognised"] == [{"page": 1, "confidence": res["per_page"][0]["confidence"],
                                        "words": res["words"]}]
    assert res["pages_needing_ocr"] == []
    assert "revenue" in r.artifacts["text.md"].read_text()
    assert r.step_names == ["Open", "Recognise text", "Summarise"]


@needs_ocr
def test_multipage_tiff_each_page_a_progress_unit(tmp_path):
    first, second = draw(FIRST), draw(SECOND)
    data = encode(first, "TIFF", save_all=True, append_images=[second], compression="tiff_deflate")
    r = run(tmp_path, data, name="fax.tiff")
    assert r.result["format"] == "TIFF" and r.result["pages"] == 2
    recognise = [e for e in r.events if e["step_name"] == "Recognise text"]
    assert {e["total"] for e in recognise} == {2}
    assert [e["message"] for e in recognise if e["message"]][-1] == "page 2 of 2"
    assert any(e["current"] == 1 and e["message"] == "page 1 of 2" for e in recognise)
    pages = r.artifacts["text.txt"].read_text().split("\n\f")
    assert len(pages) == 2
    assert recall(words_of(FIRST), pages[0]) >= 0.9 and recall(words_of(SECOND), pages[1]) >= 0.9
    assert [p["page"] for p in r.result["pages_recognised"]] == [1, 2]
    assert "## Page 2" in r.artifacts["text.md"].read_text()


@needs_ocr
def test_jpeg_turned_by_its_exif_orientation_is_read_upright(tmp_path):
    # the camera stored the page lying on its side and says so in EXIF (6: turn 90° clockwise to view)
    sideways = draw(FIRST, mode="RGB", paper=(255, 255, 255), ink=(0, 0, 0)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    r = run(tmp_path, encode(sideways, "JPEG", quality=95, exif=exif), name="photo.jpg")
    assert r.result["format"] == "JPEG" and r.result["width"] == 300
    assert recall(words_of(FIRST), r.artifacts["text.txt"].read_text()) >= 0.9


@needs_ocr
@pytest.mark.parametrize("turn, turned", [(Image.Transpose.ROTATE_180, 180), (Image.Transpose.ROTATE_90, 270)])
def test_page_fed_upside_down_or_sideways_is_turned_and_read(tmp_path, turn, turned):
    if "osd" not in ocr.installed_data():
        pytest.skip("Tesseract's orientation data (osd) not installed")
    r = run(tmp_path, encode(draw(FIRST + SECOND, size=(1400, 500)).transpose(turn), "PNG"))
    assert recall(words_of(FIRST + SECOND), r.artifacts["text.txt"].read_text()) >= 0.9
    assert r.result["pages_recognised"][0]["turned"] == turned and r.result["mean_confidence"] > 60


@needs_ocr
def test_transparent_png_reads_as_ink_on_paper(tmp_path):
    # black text on a fully transparent background: flattening onto black would lose every word
    r = run(tmp_path, encode(draw(FIRST, mode="RGBA", paper=(0, 0, 0, 0), ink=(0, 0, 0, 255)), "PNG"))
    assert r.result["mode"] == "RGBA"
    assert recall(words_of(FIRST), r.artifacts["text.txt"].read_text()) >= 0.9


@needs_ocr
def test_chinese_when_its_data_is_installed(tmp_path):
    if "chi_sim" not in ocr.languages():
        pytest.skip("tesseract-ocr-chi-sim not installed")
    r = run(tmp_path, encode(draw(FIRST), "PNG"), options={"ocr_languages": "eng+chi_sim"})
    assert r.result["ocr"]["languages"] == "eng+chi_sim" and r.result["words"] >= 8


@needs_ocr
def test_unknown_language_is_bad_option(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, encode(draw(FIRST), "PNG"), options={"ocr_languages": "eng+nope"})
    assert info.value.code == "bad_option" and "'nope'" in info.value.message


def test_without_language_data_the_job_succeeds_and_says_so(tmp_path, monkeypatch):
    empty = tmp_path / "no-tessdata"
    empty.mkdir()
    monkeypatch.setenv("TESSDATA_PREFIX", str(empty))  # Tesseract then looks nowhere else
    assert not ocr.available() and ocr.languages() == []
    first, second = draw(FIRST), draw(SECOND)
    r = run(tmp_path, encode(first, "TIFF", save_all=True, append_images=[second]), name="fax.tif")
    res = r.result
    assert res["ocr"]["available"] is False and "not installed" in res["ocr"]["reason"]
    assert res["pages_needing_ocr"] == [1, 2] and res["pages_recognised"] == [] and res["words"] is None
    assert "text.txt" not in r.artifacts
    assert P.capabilities()["ocr"]["available"] is False
    assert P.describe()["options"][0].get("choices") is None, "nothing to check names against: any is taken"


def test_too_many_pixels_is_too_large(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, encode(draw(FIRST), "PNG"), limits={"max_image_pixels": 100_000})
    assert info.value.code == "too_large" and "megapixels" in info.value.message


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels and holds a few bytes of them: a bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [12_000, 200_000])  # caught by our check, then by Pillow's at 2x the limit
def test_decompression_bomb_is_too_large_before_decoding(tmp_path, side):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, png_header_only(side, side))
    assert info.value.code == "too_large"


@pytest.mark.parametrize("data, code", [
    (b"", "empty_file"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "corrupt_file"),
    (b"GIF89a" + b"\0" * 40, "unsupported_content"),
])
def test_damaged_and_foreign_files(tmp_path, data, code):
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data)
    assert info.value.code == code
    assert "/" not in info.value.message


@needs_ocr
def test_truncated_jpeg_is_corrupt_file(tmp_path):
    data = encode(draw(FIRST, mode="RGB", paper=(255, 255, 255), ink=(0, 0, 0)), "JPEG")
    with pytest.raises(ProcessingError) as info:
        run(tmp_path, data[: len(data) // 2], name="cut.jpg")
    assert info.value.code == "corrupt_file"


def test_sniffed_by_content_not_name():
    png, jpeg = encode(draw(["x"]), "PNG"), encode(draw(["x"]), "JPEG")
    tiff_be = b"MM\x00*" + b"\0" * 12
    assert P.sniff(png[:64]) and P.sniff(jpeg[:64]) and P.sniff(tiff_be)
    assert not P.sniff(b"%PDF-1.7\n") and not P.sniff(b"hello world") and not P.sniff(b"")


def test_ci_has_tesseract():
    """CI installs Tesseract (.ci/run): there the OCR tests must run, not skip."""
    if not os.environ.get("CI"):
        pytest.skip("only checked on CI")
    assert ocr.available(), ocr.unavailable_reason()


@needs_ocr
@pytest.mark.parametrize("mode, fmt", [("I;16", "PNG"), ("CMYK", "JPEG"), ("P", "PNG"), ("1", "TIFF")])
def test_every_pixel_mode_is_read(tmp_path, mode, fmt):
    grey = draw(FIRST[:1], size=(1400, 160))
    image = grey.convert("I").point(lambda v: v * 256).convert("I;16") if mode == "I;16" else grey.convert(mode)
    r = run(tmp_path, encode(image, fmt), name=f"scan.{fmt.lower()}")
    assert r.result["mode"] == mode
    assert recall(words_of(FIRST[:1]), r.artifacts["text.txt"].read_text()) >= 0.9


def test_budget_leaves_room_for_twice_the_slowest_page():
    def budget(seconds_left: float, slowest: float) -> ocr.Budget:
        progress = type("Progress", (), {"deadline": time.monotonic() + seconds_left})()
        b = ocr.Budget(type("Ctx", (), {"progress": progress})())
        b.slowest = slowest
        return b

    assert budget(20, 0).allows_another()
    assert not budget(20, 10).allows_another(), "20 s left < 2 x 10 s + reserve"
    assert budget(30, 10).allows_another()
    assert not budget(2, 0).allows_another(), "less than the reserve"
    assert ocr.Budget(object()).allows_another(), "no deadline: no limit"


@needs_ocr
def test_pages_past_the_time_limit_are_reported_not_failed(tmp_path):
    path = tmp_path / "fax.tiff"
    path.write_bytes(encode(draw(FIRST), "TIFF", save_all=True, append_images=[draw(SECOND)]))
    # less time left than the reserve OCR keeps for the last steps: no page is started
    deadline = time.monotonic() + ocr.Budget.RESERVE - 0.5
    ctx = JobContext(path, out_dir=tmp_path / "out", steps=P.steps, deadline=deadline, limits=limits_for(P))
    res = P.process(ctx)
    assert res["pages_recognised"] == [] and res["pages_needing_ocr"] == [1, 2]
    assert "time limit" in res["pages_skipped"][0]["reason"] and res["words"] == 0


@needs_ocr
def test_blank_page_succeeds_with_no_words(tmp_path):
    r = run(tmp_path, encode(Image.new("L", (1200, 1600), 255), "PNG"))
    assert r.result["words"] == 0 and r.result["mean_confidence"] is None
    assert r.result["pages_recognised"] == [{"page": 1, "confidence": 0, "words": 0}]
