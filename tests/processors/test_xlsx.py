from __future__ import annotations

import csv
import datetime
import time
import zipfile

import openpyxl
import pytest

from processors.xlsx import XlsxProcessor
from pyramid_jobs import ProcessingError
from pyramid_jobs.testing import run_processor

P = XlsxProcessor()


def make_workbook(path, rows=30):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data & Stuff"
    ws.append(["name", "amount", "when"])
    for i in range(rows):
        ws.append([f"item {i % 5}", i * 1.5, datetime.datetime(2026, 1, 1) + datetime.timedelta(days=i)])
    ws.append(["=HYPERLINK(\"http://x\")", "=SUM(B2:B5)", None])
    ws.cell(ws.max_row, 1).data_type = "s"  # text that a spreadsheet would read as a formula
    ws.merge_cells("E1:F2")
    hidden = wb.create_sheet("Secret")
    hidden.sheet_state = "hidden"
    hidden.append([1, 2])
    wb.defined_names["TotalRange"] = openpyxl.workbook.defined_name.DefinedName("TotalRange",
                                                                                attr_text="'Data & Stuff'!$B$2:$B$5")
    wb.save(path)
    return path


def test_generated_workbook(tmp_path):
    run = run_processor(P, make_workbook(tmp_path / "w.xlsx"), interval=0)
    r = run.result
    data, secret = r["sheets"]
    assert data["name"] == "Data & Stuff" and data["state"] == "visible" and data["header"] is True
    assert secret["state"] == "hidden" and secret["rows"] == 1
    assert data["rows"] == 32 and data["formulas"] == 1 and data["merged_ranges"] == 1
    cols = {c["name"]: c for c in data["column_summaries"]}
    assert cols["amount"]["type"] in ("float", "text")
    assert cols["name"]["top_values"][0]["count"] == 6
    assert r["defined_names"][0]["name"] == "TotalRange" and r["macros"] is False
    with open(run.artifacts[data["csv"]], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["name", "amount", "when"] and rows[1][0] == "item 0"
    assert rows[-1][0].startswith("'=HYPERLINK"), "formula text is escaped in the CSV"
    assert data["csv"] == "sheet-1-Data-Stuff.csv"
    assert run.step_names == ["Open", "Read sheets", "Summarise"]
    assert any("sheet 2 of 2" in (e["message"] or "") for e in run.events)


def _blank(value) -> bool:
    # calamine reads a whitespace-only string without xml:space="preserve" as empty (XML allows it)
    return value is None or (isinstance(value, str) and not value.strip())


def test_values_match_openpyxl(corpus, tmp_path):
    for path in sorted(corpus.glob("xls[xm]_*")):
        if "pass_protected" in path.name:
            continue
        run = run_processor(P, path, out_dir=tmp_path / path.name)
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        for summary, ws in zip(run.result["sheets"], wb.worksheets, strict=False):
            ws.reset_dimensions()
            expected = [list(r) for r in ws.iter_rows(values_only=True)]
            while expected and all(_blank(v) for v in expected[-1]):
                expected.pop()  # trailing empty rows are trimmed
            assert summary["rows"] == len(expected), path.name
            with open(run.artifacts[summary["csv"]], newline="") as f:
                got = list(csv.reader(f))
            assert len(got) == len(expected), path.name
            for g, e in zip(got, expected, strict=True):
                for gv, ev in zip(g, e, strict=False):
                    if isinstance(ev, (int, float)) and not isinstance(ev, bool):
                        assert float(gv) == pytest.approx(ev), path.name
                    elif isinstance(ev, str) and not ev.startswith(("=", "+", "-", "@")) and not _blank(ev):
                        assert gv == ev, path.name


def test_corpus_specifics(corpus):
    assert run_processor(P, corpus / "xlsx_date_1904.xlsx").result["date_system"] == "1904"
    assert run_processor(P, corpus / "xlsx_merge_cells.xlsx").result["merged_ranges"] == 3
    assert run_processor(P, corpus / "xlsx_formula_issue.xlsx").result["formulas"] > 0
    assert run_processor(P, corpus / "xlsx_empty_sheet.xlsx").result["sheets"][0]["rows"] == 0
    with pytest.raises(ProcessingError) as info:
        run_processor(P, corpus / "xlsx_pass_protected.xlsx")
    assert info.value.code == "encrypted"


def _rezip(src, dest, replace: dict[str, bytes]):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            zout.writestr(name, replace.pop(name, None) or zin.read(name))
        for name, data in replace.items():
            zout.writestr(name, data)
    return dest


def test_macros_detected_never_run(tmp_path):
    src = make_workbook(tmp_path / "w.xlsx")
    path = _rezip(src, tmp_path / "m.xlsm", {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake vba"})
    assert run_processor(P, path).result["macros"] is True


def test_zip_bomb(tmp_path):
    src = make_workbook(tmp_path / "w.xlsx")
    path = _rezip(src, tmp_path / "bomb.xlsx", {"xl/worksheets/sheet1.xml": b"<a>" + b" " * (60 << 20) + b"</a>"})
    with pytest.raises(ProcessingError) as info:
        run_processor(P, path)
    assert info.value.code == "too_large"


def test_entity_bomb(tmp_path):
    src = make_workbook(tmp_path / "w.xlsx")
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">'
           b'<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    path = _rezip(src, tmp_path / "lol.xlsx", {"xl/worksheets/sheet1.xml": lol})
    started = time.monotonic()
    with pytest.raises(ProcessingError) as info:
        run_processor(P, path)
    assert info.value.code == "corrupt_file"
    assert time.monotonic() - started < 20


def test_row_limit(tmp_path):
    with pytest.raises(ProcessingError) as info:
        run_processor(P, make_workbook(tmp_path / "w.xlsx", rows=50), limits={"max_rows": 20})
    assert info.value.code == "too_large"


@pytest.mark.parametrize("data,code", [(b"", "empty_file"), (b"not a zip", "corrupt_file")])
def test_bad_files(tmp_path, data, code):
    (tmp_path / "x.xlsx").write_bytes(data)
    with pytest.raises(ProcessingError) as info:
        run_processor(P, tmp_path / "x.xlsx")
    assert info.value.code == code
