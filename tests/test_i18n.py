"""The pages and the API's messages in Simplified Chinese through Pyramid's i18n; codes stay English."""
from __future__ import annotations

import ast
import gettext
import re

import pytest

from pyramid_jobs import msgfmt
from pyramid_jobs.i18n import DOMAIN, Message, from_accept_language
from pyramid_jobs.msgfmt import LOCALE_DIR
from pyramid_jobs.runner import run_job
from pyramid_jobs.views import pages
from tests.conftest import ROOT

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
#: the column types of the built-in table summaries, shown through ``_(c.type)``
COLUMN_TYPES = {"integer", "float", "boolean", "datetime", "text"}
_CALL = re.compile(r"""\b_n?\(\s*(?P<q>["'])(?P<a>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
                   r"""(?:\s*,\s*(?P<q2>["'])(?P<b>(?:\\.|(?!(?P=q2)).)*)(?P=q2))?""")


def template_messages() -> set[str]:
    """Every literal ``_("…")`` / ``_n("…", "…")`` of the add-on's and the built-in processors' templates."""
    found: set[str] = set()
    for folder in (ROOT / "pyramid_jobs" / "templates", ROOT / "processors" / "templates"):
        for path in folder.rglob("*.jinja2"):
            for m in _CALL.finditer(path.read_text(encoding="utf-8")):
                found.add(ast.literal_eval(m.group("q") + m.group("a") + m.group("q")))
                if m.group("b") is not None:
                    found.add(ast.literal_eval(m.group("q2") + m.group("b") + m.group("q2")))
    return found


def python_messages() -> set[str]:
    """``Message``, ``gettext`` and ``ngettext`` ids in the add-on's code, and the script's strings."""
    found: set[str] = set()
    for path in (ROOT / "pyramid_jobs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Message", "gettext", "ngettext"):
                found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    found |= set(pages.JS_MESSAGES.values()) | set(pages.STATE_NAMES.values()) | set(pages.TYPE_NAMES.values())
    return found


def catalog(language: str = "zh_CN") -> gettext.GNUTranslations:
    return gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[language])


def test_every_message_has_a_chinese_translation():
    po = msgfmt.parse_po((LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.po").read_text(encoding="utf-8"))
    translated = {part for k in po if k for part in k.split("\0")}
    missing = sorted((template_messages() | python_messages() | COLUMN_TYPES) - translated)
    assert not missing, missing
    for msgid, msgstr in po.items():
        if not msgid:
            continue
        wanted = set(re.findall(r"\$\{\w+\}", msgid.replace("\0", " ")))
        for form in msgstr.split("\0"):
            assert set(re.findall(r"\$\{\w+\}", form)) == wanted, (msgid, form)


def test_the_compiled_catalog_is_the_source(tmp_path):
    """The .mo that ships is compiled from the .po (make and setup.py compile it; it is never edited)."""
    (tmp_path / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    source = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.po"
    (tmp_path / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.po").write_bytes(source.read_bytes())
    msgfmt.compile_all(tmp_path)
    fresh = gettext.translation(DOMAIN, str(tmp_path), languages=["zh_CN"])
    assert fresh.gettext("Upload a file") == "上传文件"
    assert fresh.ngettext("${n} page", "${n} pages", 1) == fresh.ngettext("${n} page", "${n} pages", 5) == "${n} 页"
    assert (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes() == \
        (tmp_path / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.mo").read_bytes(), "run make (or pip install) to compile"


@pytest.mark.parametrize("header,expected", [
    ("zh-CN,zh;q=0.9,en;q=0.5", "zh_CN"), ("zh", "zh_CN"), ("zh-Hans-SG", "zh_CN"), ("en-GB,zh;q=0.8", "en"),
    ("fr-FR, zh-cn;q=0.7, en;q=0.3", "zh_CN"), ("zh-TW,en;q=0.5", "en"), ("de,fr", None), ("", None),
    ("zh;q=0,en", "en"), ("garbage;;,", None),
])
def test_accept_language(header, expected):
    assert from_accept_language(header) == expected


def test_messages_are_english_strings_until_translated():
    message = Message("The file is ${size}; the limit is ${limit}.", size="2 MB", limit="1 MB")
    assert message == "The file is 2 MB; the limit is 1 MB." and isinstance(message, str)


def test_api_errors_translated_codes_not(app):
    res = app.post("/jobs", upload_files=[("file", "program.exe", b"MZ\x90\x00")], headers=ZH, status=415)
    assert res.json["error"]["code"] == "unsupported_type"
    assert res.json["error"]["message"].startswith("没有处理器接受")
    en = app.post("/jobs", upload_files=[("file", "program.exe", b"MZ\x90\x00")], status=415)
    assert en.json["error"]["message"].startswith("No processor takes 'program.exe'")
    big = app.post("/jobs", upload_files=[("file", "a.txt", b"x" * 1_100_000)], headers=ZH, status=413)
    assert big.json["error"] == {"code": "file_too_large", "status": 413, "message": big.json["error"]["message"]}
    assert "上限为 1 MB" in big.json["error"]["message"]  # the size is not known: the body was cut off at the limit
    missing = app.get("/jobs/" + "0" * 32, headers=ZH, status=404).json["error"]
    assert missing["code"] == "not_found" and "没有" in missing["message"]


def test_pages_in_chinese(app):
    page = app.get("/jobs/ui", headers=ZH)
    assert page.html.html["lang"] == "zh-CN"
    assert page.html.select_one("#upload-title").text == "上传文件"
    job = app.post("/jobs", upload_files=[("file", "a.txt", b"hello world")], status=202).json
    run_job(job["id"], app.env)
    done = app.get(f"/jobs/ui/{job['id']}", headers=ZH)
    assert done.html.select_one("#result-title").text == "结果"
    assert done.html.select_one("#state").text == "已成功"
    english = app.get(f"/jobs/ui/{job['id']}")
    assert english.html.select_one("#result-title").text == "Result"


def test_the_hosts_negotiator_decides(tmp_path):
    import webtest
    from pyramid.config import Configurator

    from tests.conftest import settings_for

    with Configurator(settings=settings_for(tmp_path)) as config:
        config.set_locale_negotiator(lambda request: "zh_CN")
        config.include("pyramid_jobs")
    app = webtest.TestApp(config.make_wsgi_app())
    page = app.get("/jobs/ui", headers={"Accept-Language": "en"})
    assert page.html.select_one("#upload-title").text == "上传文件"


def test_english_messages_read_right(app):
    bad = app.post("/jobs", params={"options": '{"max_rows": "ten"}'},
                   upload_files=[("file", "t.csv", b"a,b\n1,2\n")], status=400).json["error"]
    assert bad["message"] == "The option 'max_rows' must be an integer."
    fake = app.post("/jobs", upload_files=[("file", "t.xlsx", b"not a zip at all")], status=422).json["error"]
    assert fake["message"] == "By its content, the file 't.xlsx' is not in the xlsx format."
    zh = app.post("/jobs", params={"options": '{"max_rows": "ten"}'}, headers=ZH,
                  upload_files=[("file", "t.csv", b"a,b\n1,2\n")], status=400).json["error"]
    assert zh == {"code": "bad_option", "status": 400, "message": "选项“max_rows”必须是整数。"}
