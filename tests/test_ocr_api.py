"""OCR through the HTTP API (WebTest over the real WSGI app, jobs run in process): language
choices checked at submit, OCR availability listed, an image job end to end."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image, ImageDraw, ImageFont

from processors import ocr
from pyramid_jobs import Option, Processor
from pyramid_jobs.errors import BadRequest
from pyramid_jobs.options import validate_options
from pyramid_jobs.runner import run_job

needs_ocr = pytest.mark.skipif(not ocr.available(), reason="Tesseract (tesserocr + tesseract-ocr-eng) not installed")


def scan(text: str) -> bytes:
    image = Image.new("L", (1300, 160), 255)
    ImageDraw.Draw(image).text((40, 50), text, font=ImageFont.load_default(size=40), fill=0)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class Choosy(Processor):
    name = "choosy"
    steps = ("A",)
    options = (Option("colour", str, choices=("red", "green")),
               Option("langs", str, choices=lambda: ["eng", "deu"], separator="+"),
               Option("free", str, choices=list))  # a source that lists nothing restricts nothing


def test_choices_static_callable_joined_and_empty():
    p = Choosy()
    assert validate_options(p, {"colour": "red", "langs": "eng+deu", "free": "x"}) == \
        {"colour": "red", "langs": "eng+deu", "free": "x"}
    for bad in ({"colour": "blue"}, {"langs": "eng+fra"}, {"langs": "eng+"}, {"colour": "red+green"}):
        with pytest.raises(BadRequest) as info:
            validate_options(p, bad)
        assert info.value.code == "bad_option" and info.value.status == 400
    described = {o["name"]: o for o in p.describe()["options"]}
    assert described["colour"]["choices"] == ["red", "green"] and "separator" not in described["colour"]
    assert described["langs"] == {"name": "langs", "type": "string", "default": None, "help": "",
                                  "choices": ["eng", "deu"], "separator": "+"}
    assert "choices" not in described["free"]


def test_processors_say_whether_ocr_is_available(app):
    procs = {p["name"]: p for p in app.get("/jobs/processors").json["processors"]}
    assert all(isinstance(p["capabilities"], dict) for p in procs.values())
    image = procs["image"]
    assert image["capabilities"]["ocr"]["available"] is ocr.available()
    assert image["capabilities"]["ocr"]["languages"] == ocr.languages()
    assert {".png", ".jpg", ".tif"} <= set(image["extensions"])
    option = image["options"][0]
    assert option["name"] == "ocr_languages" and option["default"] == "eng"
    if ocr.available():
        assert "eng" in option["choices"] and option["separator"] == "+"


@needs_ocr
def test_unknown_ocr_language_refused_at_submit(app):
    for value in ("klingon", "eng+klingon", "../eng"):
        res = app.post("/jobs", params={"options": json.dumps({"ocr_languages": value})},
                       upload_files=[("file", "scan.png", scan("hello"))], status=400)
        err = res.json["error"]
        assert err["code"] == "bad_option" and err["status"] == 400 and "ocr_languages" in err["message"]
    assert app.get("/jobs").json["jobs"] == [], "nothing was stored"


def test_text_named_png_is_a_content_mismatch(app):
    res = app.post("/jobs", upload_files=[("file", "scan.png", b"just some text, no image")], status=422)
    assert res.json["error"]["code"] == "content_mismatch"


@needs_ocr
def test_image_job_end_to_end(app):
    res = app.post("/jobs", params={"options": json.dumps({"ocr_languages": "eng"})},
                   upload_files=[("file", "receipt.png", scan("Total amount payable immediately"))])
    job = res.json
    assert job["processor"] == "image" and job["media_type"] == "image/png"
    assert run_job(job["id"], app.env).state == "succeeded"
    done = app.get(f"/jobs/{job['id']}").json
    assert done["state"] == "succeeded" and done["progress"]["percent"] == 100
    assert sorted(a["name"] for a in done["artifacts"]) == ["text.md", "text.txt"]
    result = app.get(f"/jobs/{job['id']}/result").json
    assert result["pages"] == 1 and result["words"] >= 4 and result["mean_confidence"] > 50
    text = app.get(f"/jobs/{job['id']}/artifacts/text.txt").text.lower()
    assert all(w in text for w in ("total", "amount", "payable", "immediately")), text
