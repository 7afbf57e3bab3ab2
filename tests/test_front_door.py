"""Issue 12, the front door: requests that would cost the server far more than the client, through
WebTest over the real WSGI app (the pserve ones are in test_pserve_front.py)."""
from __future__ import annotations

import io
import json
import os
import time

import pytest
import webob
import webtest
from pyramid.exceptions import ConfigurationExecutionError

from pyramid_jobs.errors import ConfigurationError
from tests.conftest import settings_for
from tests.hostapp import main as host_main
from tests.test_api import assert_error, submit

BOUNDARY = "pjtestboundary"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


def body(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def post_raw(app, data: bytes, path: str = "/jobs", status: int | str = "*"):
    return app.request(path, method="POST", body=data, content_type=f"multipart/form-data; boundary={BOUNDARY}",
                       status=status)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def leftovers(tmp_path) -> list:
    return [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def test_long_file_name_keeps_its_extension(app):
    name = "r" * 300 + ".txt"
    job = submit(app, name=name).json
    assert len(job["filename"]) == 200 and job["filename"].endswith(".txt")
    assert job["processor"] == "txt"


def test_long_name_without_a_real_extension_is_cut(app):
    assert_error(submit(app, name="x" * 250, status=415), 415, "unsupported_type")
    job = submit(app, name="y" * 250, processor="txt").json
    assert job["filename"] == "y" * 200


def test_many_file_parts_are_refused_and_leave_no_open_file(app, tmp_path):
    many = body(*(part("file", b"x" * 1000, f"{i}.txt") for i in range(300)))
    submit(app)  # the store's files (SQLite's WAL) are open from here on
    before = open_fds()
    for path in ("/jobs", "/jobs/ui/upload"):
        res = post_raw(app, many, path, status=400)
        if path == "/jobs":
            assert_error(res, 400, "too_many_files")
    assert open_fds() <= before
    assert [p.name for p in leftovers(tmp_path)] == ["upload"]
    assert len(app.get("/jobs").json["jobs"]) == 1


def test_the_no_js_form_takes_up_to_the_limit(tmp_path):
    app = webtest.TestApp(host_main({}, **settings_for(tmp_path, **{"jobs.max_files_per_request": "3"})))
    post_raw(app, body(*(part("file", b"x", f"{i}.txt") for i in range(3))), "/jobs/ui/upload", status=303)
    assert len(app.get("/jobs").json["jobs"]) == 3
    post_raw(app, body(*(part("file", b"x", f"{i}.txt") for i in range(4))), "/jobs/ui/upload", status=400)
    assert len(app.get("/jobs").json["jobs"]) == 3


def test_a_file_refused_midway_leaves_no_file_and_no_descriptor(app, tmp_path):
    submit(app)  # the store's files (SQLite's WAL) are open from here on
    before = open_fds()
    three = body(part("file", b"one", "a.txt"), part("file", b"two", "b.txt"), part("file", b"\0" * 9000, "c.pdf"))
    post_raw(app, three, "/jobs/ui/upload", status=422)  # a pdf by its name, refused by its content
    big = body(part("file", b"ok", "a.txt"), part("file", b"y" * 1_100_000, "b.txt"))
    post_raw(app, big, "/jobs/ui/upload", status=413)
    assert open_fds() <= before
    assert not list((tmp_path / "files" / "incoming").glob("*"))


class CountingInput(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        chunk = super().read(n)
        self.consumed += len(chunk)
        return chunk


def raw_request(app, data: bytes, path: str = "/jobs") -> tuple[webob.Response, CountingInput]:
    stream = CountingInput(data)
    req = webob.Request.blank(path, method="POST", content_type=f"multipart/form-data; boundary={BOUNDARY}")
    req.body_file_raw = stream
    req.content_length = len(data)
    req.environ["wsgi.input"] = stream
    return req.get_response(app.app), stream


def test_a_flood_of_tiny_fields_is_refused_at_the_first_unknown_one(tmp_path):
    app = webtest.TestApp(host_main({}, **settings_for(tmp_path, **{"jobs.max_upload_size": "100MB"})))
    flood = body(*(part(f"f{i}", b"x") for i in range(100_000)), part("file", b"hello", "a.txt"))
    started = time.perf_counter()
    res, stream = raw_request(app, flood)
    assert res.status_int == 400 and "unknown field" in res.json["error"]["message"]
    assert stream.consumed < 256 * 1024 < len(flood), "refused after reading a few chunks, not the whole body"
    assert time.perf_counter() - started < 5
    repeated = body(*(part("processor", b"txt") for _ in range(100_000)), part("file", b"hello", "a.txt"))
    res, stream = raw_request(app, repeated)
    assert res.status_int == 400 and "more than once" in res.json["error"]["message"]
    assert stream.consumed < 256 * 1024
    small_limit = webtest.TestApp(host_main({}, **settings_for(tmp_path / "b", **{"jobs.max_upload_size": "1MB"})))
    res, stream = raw_request(small_limit, flood)
    assert res.status_int == 413 and stream.consumed == 0, "a body past every bound is refused unread"


def test_each_field_is_bounded(app):
    res = post_raw(app, body(part("processor", b"t" * 5000), part("file", b"x", "a.txt")), status=400)
    assert_error(res, 400, "bad_request")
    assert app.get("/jobs").json["jobs"] == []


def test_options_are_bounded_in_size_and_depth(app):
    big = json.dumps({"ticks": 1, "pad": "x" * 20_000})
    assert_error(submit(app, name="a.slow", options=big, status=400), 400, "bad_option")
    deep = "[" * 5000 + "]" * 5000
    assert_error(submit(app, name="a.slow", options=deep, status=400), 400, "bad_option")
    deep_object = '{"a":' * 3000 + "1" + "}" * 3000
    assert_error(submit(app, name="a.slow", options=deep_object, status=400), 400, "bad_option")
    assert app.get("/jobs").json["jobs"] == []


def test_options_a_processor_does_not_declare_are_refused(app):
    res = submit(app, name="a.docx", body=b"PK\x03\x04", options=json.dumps({"x": "y" * 1000}), status=400)
    assert_error(res, 400, "bad_option")
    res = submit(app, name="a.slow", options=json.dumps({"ticks": 1, "nope": 1}), status=400)
    assert_error(res, 400, "bad_option")
    assert "nope" in res.json["error"]["message"]
    assert app.get("/jobs").json["jobs"] == []


def test_a_body_cut_before_its_closing_boundary_is_refused(app, tmp_path):
    cut = body(part("file", b"first half of the file ", "a.txt"), close=False)
    assert_error(post_raw(app, cut, status=400), 400, "bad_request")
    cut_inside = body(part("file", b"x" * 5000, "a.txt"))[:3000]
    assert_error(post_raw(app, cut_inside, status=400), 400, "bad_request")
    assert app.get("/jobs").json["jobs"] == []
    assert leftovers(tmp_path) == []
    whole = body(part("file", b"the whole file", "a.txt"))
    assert post_raw(app, whole, status=202).json["size"] == len(b"the whole file")


def test_not_multipart_is_refused(app):
    assert_error(app.post("/jobs", params={"file": "x" * 10}, status=400), 400, "bad_request")


def test_the_openapi_description_states_the_limits(tmp_path):
    app = webtest.TestApp(host_main({}, **settings_for(tmp_path, **{"jobs.max_files_per_request": "7",
                                                                    "jobs.max_options_size": "1kB",
                                                                    "jobs.max_upload_size": "2MB"})))
    doc = app.get("/jobs/openapi.json").json
    assert doc["info"]["x-limits"] == {"max_upload_size": 2_000_000, "max_files_per_request": 7,
                                       "max_options_size": 1000}
    body = doc["paths"]["/jobs"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["options"]["maxLength"] == 1000 and schema["additionalProperties"] is False
    assert "at most 7 `file` parts" in body["description"]
    assert "507" in doc["paths"]["/jobs"]["post"]["responses"]


def test_new_settings_are_typed(tmp_path):
    for key, bad in (("jobs.max_files_per_request", "0"), ("jobs.max_options_size", "lots"), ("jobs.auth", "maybe")):
        with pytest.raises(ConfigurationExecutionError) as caught:  # settings are read in a deferred action
            host_main({}, **settings_for(tmp_path, **{key: bad}))
        assert isinstance(caught.value.evalue, ConfigurationError) and caught.value.evalue.key == key


def test_a_body_shorter_than_its_content_length_is_refused(app):
    data = body(part("file", b"x" * 100, "a.txt"))
    stream = io.BytesIO(data[:50])
    req = webob.Request.blank("/jobs", method="POST", content_type=f"multipart/form-data; boundary={BOUNDARY}")
    req.environ["wsgi.input"] = stream
    req.content_length = len(data)
    res = req.get_response(app.app)
    assert res.status_int == 400 and res.json["error"]["code"] == "bad_request"
