"""OCR in a real ``celery worker`` (prefork child): Tesseract is loaded in the forked process,
as in production, for an image job and a scanned-PDF job."""
from __future__ import annotations

import json

import pytest
import webtest
from pyramid.paster import get_app

from processors import ocr
from tests.conftest import REDIS_URL, settings_for, wait_for, write_ini
from tests.processors.test_image import FIRST, draw, encode, recall, words_of
from tests.processors.test_pdf_ocr import SCANNED, scanned_pdf

pytestmark = [pytest.mark.worker,
              pytest.mark.skipif(not ocr.available(), reason="Tesseract (tesserocr + tesseract-ocr-eng) not installed")]


def test_worker_recognises_an_image_and_a_scanned_pdf(tmp_path, redis_prefix, start_worker):
    ini = write_ini(tmp_path, settings_for(tmp_path, **{
        "jobs.broker_url": f"{REDIS_URL}/14", "jobs.store_url": f"{REDIS_URL}/15?prefix={redis_prefix}",
        "jobs.celery.task_default_queue": f"{redis_prefix}queue", "jobs.progress_interval": "0.05"}))
    start_worker(ini)
    app = webtest.TestApp(get_app(str(ini)))
    image = app.post("/jobs", upload_files=[("file", "scan.png", encode(draw(FIRST), "PNG"))]).json
    pdf = app.post("/jobs", params={"options": json.dumps({"ocr": "auto", "ocr_languages": "eng"})},
                   upload_files=[("file", "scan.pdf", scanned_pdf())]).json
    for job, lines in ((image, FIRST), (pdf, SCANNED)):
        done = wait_for(lambda j=job: (d := app.get(f"/jobs/{j['id']}").json)["state"] in ("succeeded", "failed")
                        and d, timeout=120, what=f"{job['processor']} job")
        assert done["state"] == "succeeded", done["error"]
        text = app.get(f"/jobs/{job['id']}/artifacts/text.txt").text
        assert recall(words_of(lines), text) >= 0.9, text
    result = app.get(f"/jobs/{pdf['id']}/result").json
    assert [p["page"] for p in result["ocr"]["pages_recognised"]] == [1]
