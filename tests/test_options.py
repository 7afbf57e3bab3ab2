from __future__ import annotations

import pytest
import webtest

from pyramid_jobs import Option, Processor
from pyramid_jobs.errors import BadRequest
from pyramid_jobs.options import validate_options
from tests.conftest import settings_for
from tests.hostapp import main as host_main


class WithOptions(Processor):
    name = "opt"
    steps = ("A",)
    options = (Option("pages", int, default=3, help="how many"), Option("ratio", float), Option("deep", bool),
               Option("label", str))


def test_validate_types_defaults_and_unknown_names():
    p = WithOptions()
    assert validate_options(p, {}) == {"pages": 3}
    assert validate_options(p, {"ratio": 2, "deep": True, "label": "x"}) == {"pages": 3, "ratio": 2, "deep": True,
                                                                              "label": "x"}
    for bad in ({"pages": "3"}, {"pages": True}, {"ratio": "1.5"}, {"deep": 1}, {"label": 5}, {"nope": 1}):
        with pytest.raises(BadRequest):
            validate_options(p, bad)
    with pytest.raises(BadRequest) as caught:
        validate_options(Processor(), {"anything": [1]})
    assert caught.value.code == "bad_option", "a processor that declares no options takes none"
    assert validate_options(Processor(), {}) == {}


def test_api_checks_and_lists_options(tmp_path):
    app = webtest.TestApp(host_main({"here": str(tmp_path)}, **settings_for(tmp_path)))
    res = app.post("/jobs", params={"options": '{"max_rows": "ten"}'}, upload_files=[("file", "a.csv", b"a,b\n1,2\n")],
                   status=400)
    assert "max_rows" in res.json["error"]["message"]
    res = app.post("/jobs", params={"options": '{"delimeter": ";"}'}, upload_files=[("file", "a.csv", b"a\n1\n")],
                   status=400)
    assert "delimeter" in res.json["error"]["message"] and "delimiter" in res.json["error"]["message"]
    job = app.post("/jobs", params={"options": '{"max_rows": 5}'}, upload_files=[("file", "a.csv", b"a\n1\n")]).json
    assert job["options"] == {"max_rows": 5}
    procs = {p["name"]: p for p in app.get("/jobs/processors").json["processors"]}
    assert [o["name"] for o in procs["csv"]["options"]] == ["delimiter", "encoding", "max_rows"]
    assert procs["pdf"]["options"][0] == {"name": "password", "type": "string", "default": None,
                                          "help": "the PDF's user password, when it has one", "secret": True}
    assert "max_rows" in app.get("/jobs/ui").text
