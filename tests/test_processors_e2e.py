"""Every corpus file through the API and the real runner, stored by job id as uploads are."""
from __future__ import annotations

import pytest
import webtest

from pyramid_jobs.runner import run_job
from pyramid_jobs.runtime import get_runtime
from tests.conftest import CORPUS, settings_for
from tests.hostapp import main as host_main

EXPECTED_FAILURES = {
    "pdf_encrypted.pdf": "encrypted", "doc_encrypted.doc": "encrypted", "doc_poi_PasswordProtected.doc": "encrypted",
    "xlsx_pass_protected.xlsx": "encrypted", "csv_empty.csv": "empty_file",
    "xls_calamine_password.xls": "encrypted", "ods_calamine_password.ods": "encrypted",
    "doc_poi_fuzz_table_storage.doc": "corrupt_file",
}
FILES = sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".pdf", ".doc", ".docx", ".csv", ".tsv", ".txt",
                                                                   ".xlsx", ".xlsm", ".xls", ".ods")) \
    if CORPUS.is_dir() else []


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    wsgi = host_main({"here": str(tmp)}, **settings_for(tmp))
    test_app = webtest.TestApp(wsgi)
    test_app.env = get_runtime(wsgi.registry)
    return test_app


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_end_to_end(app, name):
    job = app.post("/jobs", upload_files=[("file", name, (CORPUS / name).read_bytes())], status=202).json
    run_job(job["id"], app.env)
    done = app.get(f"/jobs/{job['id']}").json
    if name in EXPECTED_FAILURES:
        assert done["state"] == "failed" and done["error"]["code"] == EXPECTED_FAILURES[name], done["error"]
        assert "Traceback" not in done["error"]["message"]
        return
    if name == "doc_poi_Fuzzed.doc" and done["state"] == "failed":
        assert done["error"]["code"] in ("corrupt_file", "unsupported_content")
        return
    assert done["state"] == "succeeded", done["error"]
    assert done["artifacts"], name
    for artifact in done["artifacts"]:
        assert app.get(artifact["url"]).body is not None
    page = app.get(done["links"]["page"])
    assert "Result" in page.text and "Raw JSON" in page.text
