"""The pages in a real browser: headless Chromium (Debian's) driven by Playwright, against pserve."""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, Pserve, answers, free_port, wait_for, write_ini

pytestmark = [pytest.mark.browser, pytest.mark.worker]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: set PYRAMID_JOBS_SCREENSHOTS=docs to refresh the screenshots shown in the README
SHOTS = os.environ.get("PYRAMID_JOBS_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's package")
        pytest.skip("chromium is not installed")
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    ini = write_ini(tmp, {
        "jobs.broker_url": f"sqla+sqlite:///{tmp}/broker.sqlite", "jobs.store_url": f"sqlite:///{tmp}/jobs.sqlite",
        "jobs.data_dir": str(tmp / "files"), "jobs.embedded_worker": "true", "jobs.worker_concurrency": "2",
        "jobs.progress_interval": "0.05",
    })
    ini.write_text(ini.read_text().replace("listen = 127.0.0.1:0", f"listen = 127.0.0.1:{port}"))
    proc = Pserve(ini, tmp / "pserve.log")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(base) or proc.proc.poll() is not None, timeout=60, what="pserve")
    yield base
    proc.kill()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
        pg.errors = errors
        yield pg
        browser.close()


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def shot(page, name: str, tmp_path: Path) -> None:
    target = (ROOT / SHOTS) if SHOTS else tmp_path
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / name), full_page=True)


def upload(page, server, path: Path, options: dict | None = None) -> None:
    page.goto(f"{server}/jobs/ui")
    page.set_input_files("#file-input", str(path))
    if options:
        page.fill("#options", json.dumps(options))
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/jobs/ui/*")


def test_progress_by_step_to_the_result(page, server, tmp_path):
    slow = tmp_path / "report.slow"
    slow.write_text("x")
    upload(page, server, slow, {"ticks": 60, "tick": 0.1})
    expect(page.locator("#step-label")).to_contain_text("Step 2 of 2: Tick")
    seen = set()
    for _ in range(80):
        value = float(page.get_attribute("#bar", "value") or 0)
        seen.add(value)
        if 60 < value < 90:
            break
        page.wait_for_timeout(100)
    assert any(50 < v < 100 for v in seen), f"the bar moves within the step: {sorted(seen)}"
    assert "tick" in page.text_content("#message")
    page.wait_for_selector("#result-title", timeout=30_000)
    assert float(page.get_attribute("#bar", "value")) == 100
    assert page.text_content("#state") == "succeeded"
    assert not page.errors, page.errors


def test_csv_result_table_and_download(page, server, corpus, tmp_path):
    upload(page, server, corpus / "csv_iris.csv")
    page.wait_for_selector("table.columns", timeout=30_000)
    assert "sepal_length" in page.text_content("table.columns")
    shot(page, "screenshot-result.png", tmp_path)
    with page.expect_download() as info:
        page.click(".artifacts a:text-is(\"columns.csv\")")  # the preview of text.md names it too
    download = info.value
    saved = tmp_path / "columns.csv"
    download.save_as(str(saved))
    assert saved.read_text().startswith("name,type,count")


def test_cancel_a_slow_job(page, server, tmp_path):
    slow = tmp_path / "long.slow"
    slow.write_text("x")
    upload(page, server, slow, {"ticks": 600, "tick": 0.1})
    expect(page.locator("#step-label")).to_contain_text("Tick")
    page.click("#cancel")
    expect(page.locator("#state")).to_have_text("cancelled", timeout=30_000)


def test_refused_before_sending_and_recent_jobs(page, server, tmp_path):
    names = [f"recent-{uuid.uuid4().hex[:6]}-{i}.txt" for i in range(3)]
    for name in names:  # this test's own jobs, not what earlier tests left
        answer = page.request.post(f"{server}/jobs", multipart={
            "file": {"name": name, "mimeType": "text/plain", "buffer": b"three recent jobs"}})
        assert answer.status == 202, answer.text()
    bad = tmp_path / "program.exe"
    bad.write_bytes(b"MZ\x90\x00")
    page.goto(f"{server}/jobs/ui")
    page.set_input_files("#file-input", str(bad))
    page.click("button[type=submit]")
    page.wait_for_selector("#refused li")
    assert "no processor takes" in page.text_content("#refused")
    assert page.url.endswith("/jobs/ui")
    recent = page.text_content("#recent")
    assert all(name in recent for name in names), recent
    shot(page, "screenshot-upload.png", tmp_path)
