"""The job page previews a job's text.md: rendered on the server, no script, untrusted Markdown tamed."""
from __future__ import annotations

from pyramid_jobs.preview import PREVIEW_BYTES
from pyramid_jobs.runner import run_job


def _job(app, name: str, body: bytes) -> dict:
    job = app.post("/jobs", upload_files=[("file", name, body)], status=202).json
    run_job(job["id"], app.env)
    return app.get(f"/jobs/{job['id']}").json


def test_a_table_and_its_heading_are_previewed(app):
    job = _job(app, "prices.csv", "item,price\n苹果,3\npear,4\n".encode())
    assert job["state"] == "succeeded" and "text.md" in {a["name"] for a in job["artifacts"]}
    page = app.get(f"/jobs/ui/{job['id']}")
    preview = page.html.select_one("section.md-preview .markdown")
    assert preview.select_one("h1").text == "prices.csv"
    assert [th.text for th in preview.select("table thead th")] == ["item", "price"]
    assert [td.text for td in preview.select("table tbody tr")[0].select("td")] == ["苹果", "3"]
    assert "Preview of text.md" in page.html.select_one("#preview-title").text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert not page.html.select("section.md-preview script")


def test_untrusted_markdown_is_shown_not_run(app):
    hostile = (b"# Notes\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
               b"[click](javascript:alert(3)) [data](data:text/html,<b>x</b>) [site](https://example.com/)\n\n"
               b"![pixel](https://tracker.example/p.png)\n")
    job = _job(app, "n.notes", hostile)
    page = app.get(f"/jobs/ui/{job['id']}")
    preview = page.html.select_one("section.md-preview .markdown")
    assert "<script>alert(1)</script>" in preview.text  # shown as text
    assert not preview.select("script, img, iframe, [onerror]")
    hrefs = [a["href"] for a in preview.select("a")]
    assert not any(h.startswith(("javascript:", "data:")) for h in hrefs), hrefs
    site = preview.select_one('a[href="https://example.com/"]')
    assert site["rel"] == ["nofollow", "noreferrer"]


def test_a_long_preview_is_cut_and_says_so(app):
    line = b"| " + b"x" * 60 + b" |\n"
    body = b"| col |\n|---|\n" + line * (PREVIEW_BYTES // len(line) + 500)
    job = _job(app, "long.notes", body)
    page = app.get(f"/jobs/ui/{job['id']}")
    assert "Only the first 64 kB are shown" in page.html.select_one("section.md-preview .hint").text
    rows = page.html.select("section.md-preview tbody tr")
    assert 0 < len(rows) < PREVIEW_BYTES // len(line) + 1


def test_no_preview_without_text_md(app):
    job = _job(app, "hi.shout", b"hello")
    assert job["state"] == "succeeded"
    assert app.get(f"/jobs/ui/{job['id']}").html.select_one("section.md-preview") is None
