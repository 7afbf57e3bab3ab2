"""The web process lists processors and takes uploads without the libraries that read files."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "pypdf", "pypdfium2", "lxml", "openpyxl", "docx", "olefile", "python_calamine",
         "jieba", "PIL", "tesserocr", "charset_normalizer", "markdown_it")

# plain WebOb requests: WebTest itself would import lxml and charset_normalizer (through bs4)
CODE = """
import json, sys
from pathlib import Path
from webob import Request
from tests.conftest import settings_for
from tests.hostapp import main
app = main({{}}, **settings_for(Path({tmp!r})))
listed = Request.blank("/jobs/processors").get_response(app).json["processors"]
body = (b"--b\\r\\nContent-Disposition: form-data; name=\\"file\\"; filename=\\"a.txt\\"\\r\\n"
        b"Content-Type: text/plain\\r\\n\\r\\nhello\\r\\n--b--\\r\\n")
upload = Request.blank("/jobs", method="POST", body=body, content_type="multipart/form-data; boundary=b")
status = upload.get_response(app).status_int
print(json.dumps({{"listed": [p["name"] for p in listed], "status": status,
                  "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def test_the_web_app_loads_every_plugin_without_the_readers(tmp_path):
    code = CODE.format(tmp=str(tmp_path), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    answer = json.loads(out.strip().splitlines()[-1])
    assert {"pdf", "xlsx", "xls", "ods", "csv", "txt", "docx", "doc", "image"} <= set(answer["listed"])
    assert answer["status"] == 202
    assert answer["heavy"] == [], f"imported by the web process: {answer['heavy']}"
