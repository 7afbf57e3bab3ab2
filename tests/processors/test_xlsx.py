from __future__ import annotations

import csv
import datetime
import time
import zipfile

import openpyxl
import pytest

from processors.xlsx import OdsProcessor, XlsProcessor, XlsxProcessor
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


# -- workbooks written by hand, as hostile or odd producers write them ---------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def hand_workbook(path, sheet: str, shared: list[str] | None = None, *, sheets_xml: str | None = None,
                  extra: dict[str, str] | None = None):
    """A minimal xlsx around one sheet's XML (the part inside <worksheet>), zipped here."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               'content-types"><Default Extension="xml" ContentType="application/xml"/>'
                               '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                               'relationships+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{RELS}/officeDocument" '
                       'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
                           + (sheets_xml or '<sheet name="S" sheetId="1" r:id="rId1"/>') + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{RELS}/worksheet" '
                                      'Target="worksheets/sheet1.xml"/><Relationship Id="rId9" '
                                      f'Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}">{sheet}</worksheet>',
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">' + "".join(f"<si><t>{s}</t></si>" for s in shared) \
                                        + "</sst>"
    parts.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def rows_xml(cells: dict[str, object]) -> str:
    """``{"A1": 1, "B2": "x"}`` -> <sheetData> with rows in order (inline strings)."""
    import re

    by_row: dict[int, list[str]] = {}
    for ref, value in cells.items():
        row = int(re.sub(r"[A-Z]", "", ref))
        body = (f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>' if isinstance(value, str)
                else f'<c r="{ref}"><v>{value}</v></c>')
        by_row.setdefault(row, []).append(body)
    return "<sheetData>" + "".join(f'<row r="{r}">{"".join(c)}</row>' for r, c in sorted(by_row.items())) \
           + "</sheetData>"


def read_csv(run, sheet=0):
    with open(run.artifacts[run.result["sheets"][sheet]["csv"]], newline="") as f:
        return list(csv.reader(f))


def test_declared_dimension_a1_over_real_data(tmp_path):
    cells = {f"{c}{r}": r * 10 + i for r in range(1, 4) for i, c in enumerate("ABC")}
    run = run_processor(P, hand_workbook(tmp_path / "d.xlsx", '<dimension ref="A1:A1"/>' + rows_xml(cells)))
    sheet = run.result["sheets"][0]
    assert (sheet["rows"], sheet["columns"], sheet["declared_dimensions"]) == (3, 3, "A1:A1")
    assert read_csv(run) == [["10", "11", "12"], ["20", "21", "22"], ["30", "31", "32"]]


def test_declared_dimension_misses_columns_e_and_f(tmp_path):
    cells = {"B1": "b", "D9": 4, "E2": "e", "F9": 6}
    run = run_processor(P, hand_workbook(tmp_path / "d.xlsx", '<dimension ref="B1:D9"/>' + rows_xml(cells)))
    sheet = run.result["sheets"][0]
    assert (sheet["rows"], sheet["columns"], sheet["dimensions"]) == (9, 6, "A1:F9")
    rows = read_csv(run)
    assert rows[1] == ["", "", "", "", "e", ""] and rows[8] == ["", "", "", "4", "", "6"]


def test_declared_whole_sheet_over_two_rows(tmp_path):
    sheet_xml = '<dimension ref="A1:XFD1048576"/>' + rows_xml({"A1": "name", "B1": "n", "A2": "x", "B2": 2})
    run = run_processor(P, hand_workbook(tmp_path / "d.xlsx", sheet_xml), limits={"max_rows": 1000,
                                                                                  "max_cells": 10_000})
    assert run.result["sheets"][0]["rows"] == 2 and run.result["sheets"][0]["columns"] == 2


def test_styled_empty_cells_do_not_count(tmp_path):
    """Formatted but empty cells far away (as Excel writes them) are not data."""
    sheet_xml = ('<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/></row>'
                 '<row r="1048576"><c r="A1048576" s="1"/></row></sheetData>')
    run = run_processor(P, hand_workbook(tmp_path / "d.xlsx", sheet_xml), limits={"max_cells": 1000})
    assert (run.result["sheets"][0]["rows"], run.result["sheets"][0]["columns"]) == (1, 1)


def test_far_value_refused_before_it_is_allocated(tmp_path):
    """One empty-string cell at XFD1048576: calamine would allocate a 1M x 16k grid and abort the process."""
    sheet_xml = ('<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576">'
                 '<c r="XFD1048576" t="inlineStr"><is><t></t></is></c></row></sheetData>')
    with pytest.raises(ProcessingError) as info:
        run_processor(P, hand_workbook(tmp_path / "far.xlsx", sheet_xml))
    assert info.value.code == "too_large" and "16,384 columns" in info.value.message


def test_row_and_column_limits_on_real_cells(tmp_path):
    path = hand_workbook(tmp_path / "w.xlsx", '<dimension ref="A1:B2"/>' + rows_xml({"A1": 1, "A50": 2, "Z3": 3}))
    for limits, words in (({"max_rows": 20}, "50 rows"), ({"max_columns": 10}, "26 columns"),
                          ({"max_cells": 1000}, "50 rows by 26 columns")):
        with pytest.raises(ProcessingError) as info:
            run_processor(P, path, limits=limits)
        assert info.value.code == "too_large" and words in info.value.message, info.value.message


def test_cells_without_references(tmp_path):
    """References are optional: positions follow the previous cell and row."""
    sheet_xml = ('<sheetData><row><c><v>1</v></c><c t="inlineStr"><is><t>a</t></is></c></row>'
                 '<row><c/><c/><c><v>3</v></c></row></sheetData>')
    run = run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    assert read_csv(run) == [["1", "a", ""], ["", "", "3"]]
    assert run.result["sheets"][0]["columns"] == 3


@pytest.mark.parametrize("shared_attr", ['t="s"', "t='s'", 't = "s"', 's="0"t="s"'])
def test_shared_strings_bomb_fails_fast(tmp_path, shared_attr):
    """A 300 kB shared string referenced by 4,000 cells is 1.2 GB of text: refused before it is expanded
    (calamine copies the string into every cell), although each zip part is within the ratio limit."""
    import random

    text = "".join(random.Random(1).choices("abcdefghijklmnopqrstuvwxyz", k=300_000))

    def bomb(refs: int):
        formula = "<f>A1</f>" if shared_attr.startswith("s=") else ""  # calamine reads the <v> after one
        cells = "".join(f'<row r="{r}"><c r="A{r}" {shared_attr}>{formula}<v>0</v></c></row>'
                        for r in range(1, refs + 1))
        return hand_workbook(tmp_path / f"bomb{refs}.xlsx", f"<sheetData>{cells}</sheetData>", shared=[text])

    started = time.monotonic()
    with pytest.raises(ProcessingError) as info:
        run_processor(P, bomb(4000))
    assert info.value.code == "too_large" and "characters" in info.value.message, info.value.message
    assert time.monotonic() - started < 10
    run = run_processor(P, bomb(3))  # the same string used three times is an ordinary workbook
    assert run.result["sheets"][0]["rows"] == 3
    assert run.artifacts[run.result["sheets"][0]["csv"]].read_text().splitlines()[2] == text


def test_error_cells_as_excel_shows_them(tmp_path):
    sheet_xml = ('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c><c r="B1" t="inlineStr"><is>'
                 '<t>ratio</t></is></c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="e"><f>1/0</f>'
                 '<v>#DIV/0!</v></c></row><row r="3"><c r="A3"><v>2</v></c><c r="B3" t="e"><f>foo()</f>'
                 '<v>#NAME?</v></c></row><row r="4"><c r="A4"><v>3</v></c><c r="B4"><v>0.5</v></c></row></sheetData>')
    run = run_processor(P, hand_workbook(tmp_path / "e.xlsx", sheet_xml))
    assert read_csv(run) == [["n", "ratio"], ["1", "#DIV/0!"], ["2", "#NAME?"], ["3", "0.5"]]
    sheet = run.result["sheets"][0]
    assert sheet["error_cells"] == 2 and sheet["formulas"] == 2
    ratio = sheet["column_summaries"][1]
    assert ratio["type"] == "float" and ratio["count"] == 1 and ratio["nulls"] == 2  # errors are not numbers
    assert "| 1 | #DIV/0! |" in run.artifacts["text.md"].read_text()  # a cell is no line start: no escape


def test_durations_dates_and_chart_sheets(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["took", "day", "at"])
    ws.append([datetime.timedelta(days=10, hours=15, minutes=10, seconds=10), datetime.date(2024, 2, 29),
               datetime.datetime(2024, 2, 29, 13, 45, 30)])
    ws["A2"].number_format = "[h]:mm:ss"
    wb.create_sheet("Hidden").sheet_state = "hidden"
    wb.create_sheet("Deep").sheet_state = "veryHidden"
    chart = wb.create_chartsheet("Chart")
    chart.sheet_state = "visible"
    wb.save(tmp_path / "t.xlsx")
    run = run_processor(P, tmp_path / "t.xlsx")
    assert read_csv(run)[1] == ["255:10:10", "2024-02-29", "2024-02-29 13:45:30"]
    kinds = [(s["name"], s["kind"], s["state"]) for s in run.result["sheets"]]
    assert kinds == [("Sheet", "worksheet", "visible"), ("Hidden", "worksheet", "hidden"),
                     ("Deep", "worksheet", "veryHidden"), ("Chart", "chart", "visible")]
    cols = run.result["sheets"][0]["column_summaries"]
    assert cols[1]["type"] == "date" and cols[2]["type"] == "datetime"  # a day is a date, a moment a datetime
    assert cols[0]["top_values"][0]["value"] == "255:10:10"


def test_strict_ooxml_workbook(tmp_path):
    """ISO/IEC 29500 strict namespaces: openpyxl sees zero sheets; we read them."""
    src = make_workbook(tmp_path / "w.xlsx")
    strict = {b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
              b"http://schemas.openxmlformats.org/officeDocument/2006/relationships":
              b"http://purl.oclc.org/ooxml/officeDocument/relationships"}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "strict.xlsx", "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            for old, new in strict.items():
                data = data.replace(old, new)
            zout.writestr(name, data)
    assert openpyxl.load_workbook(tmp_path / "strict.xlsx").sheetnames == []  # what went wrong before
    r = run_processor(P, tmp_path / "strict.xlsx").result
    assert r["strict"] is True and r["sheet_count"] == 2
    assert r["sheets"][0]["rows"] == 32 and r["sheets"][1]["state"] == "hidden"
    assert r["defined_names"][0]["name"] == "TotalRange"


def test_text_md_tables_capped(tmp_path):
    run = run_processor(P, make_workbook(tmp_path / "w.xlsx", rows=60))
    md = run.artifacts["text.md"].read_text()
    assert md.startswith("## Data & Stuff\n")
    assert "| name | amount | when |" in md and "| item 1 | 1.5 | 2026-01-02 |" in md
    assert "*Showing the first 20 rows with data, of 62 rows.*" in md
    assert "## Secret\n" in md and "| 1 | 2 |" in md


def _damage(src, dest, how: str):
    """Damage the sheet member: its CRC in both headers, or its deflate data."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    local = info.header_offset
    name_len, extra_len = int.from_bytes(data[local + 26:local + 28], "little"), \
        int.from_bytes(data[local + 28:local + 30], "little")
    start = local + 30 + name_len + extra_len
    if how == "crc":
        bad = (info.CRC ^ 0xFFFF).to_bytes(4, "little")
        data[local + 14:local + 18] = bad
        for pos in range(len(data) - 46):
            if data[pos:pos + 4] == b"PK\x01\x02" and int.from_bytes(data[pos + 42:pos + 46], "little") == local:
                data[pos + 16:pos + 20] = bad
    else:
        mid = start + info.compress_size // 2
        data[mid:mid + 16] = b"\xff" * 16
    dest.write_bytes(bytes(data))
    return dest


@pytest.mark.parametrize("how", ["crc", "deflate"])
def test_damaged_zip_is_corrupt_file(tmp_path, how):
    path = _damage(make_workbook(tmp_path / "w.xlsx", rows=3000), tmp_path / "bad.xlsx", how)
    with pytest.raises(ProcessingError) as info:
        run_processor(P, path)
    assert info.value.code == "corrupt_file", info.value.message
    assert str(tmp_path) not in info.value.message and "Error" not in info.value.message


# -- legacy Excel (xls) and OpenDocument (ods), through the same calamine path --------------------------------

XLS, ODS = XlsProcessor(), OdsProcessor()


@pytest.mark.parametrize("name,processor", [("xls_calamine_base.xls", XLS), ("ods_calamine_base.ods", ODS)])
def test_xls_and_ods_values(corpus, name, processor):
    run = run_processor(processor, corpus / name)
    r = run.result
    assert r["format"] == processor.name and [s["name"] for s in r["sheets"]] == ["Sheet1", "Sheet2", "Merged Cells"]
    row = read_csv(run)[1]  # calamine's test file keeps its data in row 2
    assert row[:8] == ["String", "1", "1.1", "TRUE", "FALSE", "2010-10-10", "2010-10-10 10:10:10", "10:10:10"]
    assert row[9] == "255:10:10"  # a duration as Excel shows it, from BIFF and from ODF's PT255H10M10S alike
    assert "## Sheet1" in run.artifacts["text.md"].read_text()
    if processor is XLS:
        assert r["sheets"][2]["merged_ranges"] == 2


@pytest.mark.parametrize("name,processor", [("xls_calamine_any_sheets.xls", XLS),
                                            ("ods_calamine_any_sheets.ods", ODS)])
def test_xls_and_ods_sheet_states(corpus, name, processor):
    sheets = run_processor(processor, corpus / name).result["sheets"]
    states = [(s["name"], s["state"]) for s in sheets]
    assert states[:2] == [("Visible", "visible"), ("Hidden", "hidden")]
    if processor is XLS:  # BIFF knows very hidden and chart sheets; ODF has neither
        assert states[2] == ("VeryHidden", "veryHidden") and sheets[3]["kind"] == "chart"
    assert sheets[0]["rows"] == 5 and sheets[0]["columns"] == 2


@pytest.mark.parametrize("name,processor", [("xls_calamine_password.xls", XLS), ("ods_calamine_password.ods", ODS)])
def test_xls_and_ods_with_password(corpus, name, processor):
    with pytest.raises(ProcessingError) as info:
        run_processor(processor, corpus / name)
    assert info.value.code == "encrypted"


def test_sniffed_by_content(corpus):
    xls, doc = (corpus / "xls_calamine_base.xls").read_bytes(), (corpus / "doc_plain.doc").read_bytes()
    ods, xlsx = (corpus / "ods_calamine_base.ods").read_bytes(), (corpus / "xlsx_merge_cells.xlsx").read_bytes()
    assert XLS.sniff(xls[:8192]) and not XLS.sniff(ods[:8192]) and not XLS.sniff(b"ID;PWXL")
    assert ODS.sniff(ods[:8192]) and not ODS.sniff(xls[:8192]) and not ODS.sniff(xlsx[:8192])
    assert P.sniff(xlsx[:8192]) and not P.sniff(ods[:8192])
    assert XLS.sniff(doc[:8192])  # an OLE file: only its streams tell a Word file apart, when it is opened


def test_word_file_is_not_a_workbook(corpus, tmp_path):
    path = tmp_path / "upload"
    path.write_bytes((corpus / "doc_plain.doc").read_bytes())
    with pytest.raises(ProcessingError) as info:
        run_processor(XLS, path)
    assert info.value.code == "unsupported_content" and "Word document" in info.value.message


def test_other_opendocument_is_refused(tmp_path):
    path = tmp_path / "t.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ProcessingError) as info:
        run_processor(ODS, path)
    assert info.value.code == "unsupported_content"


@pytest.mark.parametrize("processor", [P, XLS, ODS])
def test_empty_file(tmp_path, processor):
    path = tmp_path / "upload"
    path.write_bytes(b"")
    with pytest.raises(ProcessingError) as info:
        run_processor(processor, path)
    assert (info.value.code, info.value.message) == ("empty_file", "The file is empty.")


@pytest.mark.parametrize("processor,data", [(XLS, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
                                            (ODS, b"PK\x03\x04" + b"\x00" * 100), (P, b"PK\x03\x04junk")])
def test_damaged_files_say_so_without_paths(tmp_path, processor, data):
    path = tmp_path / "secret-server-dir" / "upload"
    path.parent.mkdir()
    path.write_bytes(data)
    with pytest.raises(ProcessingError) as info:
        run_processor(processor, path)
    assert info.value.code == "corrupt_file", info.value.message
    assert "secret-server-dir" not in info.value.message and "Error" not in info.value.message


@pytest.mark.parametrize("name,processor", [("xls_calamine_password.xls", XLS), ("ods_calamine_password.ods", ODS),
                                            ("xls_calamine_base.xls", XLS), ("ods_calamine_base.ods", ODS)])
def test_stored_without_extension(corpus, tmp_path, name, processor):
    """Uploads are stored by job id: calamine must still tell the format, and a password from damage."""
    path = tmp_path / "upload"
    path.write_bytes((corpus / name).read_bytes())
    if "password" in name:
        with pytest.raises(ProcessingError) as info:
            run_processor(processor, path)
        assert info.value.code == "encrypted"
    else:
        assert run_processor(processor, path).result["sheets"][0]["rows"] == 2


def _ods(path, rows_xml: str):
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
               'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
               f'<office:spreadsheet><table:table table:name="S">{rows_xml}</table:table></office:spreadsheet>'
               '</office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                                             'xmlns:manifest:1.0"/>')
    return path


def test_ods_repeats_checked_before_calamine_expands_them(tmp_path):
    """700 bytes asking for 6,000 x 16,384 cells: calamine would allocate ~3 GB (or abort the process)."""
    cell = '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>'
    path = _ods(tmp_path / "rep.ods", f'<table:table-row table:number-rows-repeated="6000">{cell}</table:table-row>')
    assert path.stat().st_size < 1000
    with pytest.raises(ProcessingError) as info:
        run_processor(ODS, path)
    assert info.value.code == "too_large" and "16,384 columns" in info.value.message


def test_ods_trailing_empty_repeats_are_not_data(tmp_path):
    """LibreOffice ends sheets with a million repeated empty rows and 1,024 empty cells per row."""
    path = _ods(tmp_path / "ok.ods",
                '<table:table-row><table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p>'
                '</table:table-cell><table:table-cell table:number-columns-repeated="1023"/></table:table-row>'
                '<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
                'table:number-columns-repeated="1024"/></table:table-row>')
    run = run_processor(ODS, path, limits={"max_cells": 100})
    assert read_csv(run) == [["7"]]


@pytest.mark.parametrize("sheet_xml", [
    # a far cell first in its row: the last cell of each row is not the farthest
    '<sheetData><row r="1"><c r="XFD1048576"><v>1</v></c><c r="A1"><v>2</v></c></row></sheetData>',
    # a far row inside an early one, rows out of order
    '<sheetData><row r="2"><c r="XFD1048576"><v>1</v></c><c r="A2"><v>2</v></c></row>'
    '<row r="1"><c r="A1"><v>3</v></c></row></sheetData>',
])
def test_cells_out_of_order_are_measured(tmp_path, sheet_xml):
    """References decide where calamine puts a cell: order in the XML must not hide a far one (calamine
    would allocate a 1M x 16k grid and abort the process, so the scan must refuse it first)."""
    with pytest.raises(ProcessingError) as info:
        run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    assert info.value.code == "too_large"
    assert "has cells in 16,384 columns" in info.value.message  # the scan's words, before calamine


def test_cells_out_of_order_read_right(tmp_path):
    sheet_xml = ('<sheetData><row r="1"><c r="C1"><v>3</v></c><c r="A1"><v>1</v></c></row>'
                 '<row r="3"><c r="B3"><v>5</v></c></row><row r="2"><c r="A2"><v>4</v></c></row></sheetData>')
    run = run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    assert (run.result["sheets"][0]["rows"], run.result["sheets"][0]["columns"]) == (3, 3)
    assert read_csv(run) == [["1", "", "3"], ["4", "", ""], ["", "5", ""]]


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.mark.parametrize("cell", [
    """<c r='XFD1048576'><v>1</v></c>""",  # XML allows either quote
    '<c r="xfd1048576"><v>1</v></c>',  # calamine reads lower-case references
    '<c r = "XFD1048576"><v>1</v></c>',
    '<c\tr="XFD1048576"><v>1</v></c>',
    '<c s="0" r="XFD1048576"><v>1</v></c>',
    '<c r="XFD0001048576"><v>1</v></c>',  # leading zeros
    f'<y:c xmlns:y="{MAIN_NS}" r="XFD1048576"><v>1</v></y:c>',  # the main namespace under another prefix
    '<y:c xmlns:y="urn:other" r="XFD1048576"><v>1</v></y:c>',  # calamine matches local names only
    '<c r="B1" r="XFD1048576"><v>1</v></c>',  # a repeated attribute: calamine takes the last
    '<c r="B1" s="0" r = "XFD1048576"><v>1</v></c>',
    '<c s="0"r="XFD1048576"><v>1</v></c>',  # no space between attributes
])
def test_references_written_otherwise_are_measured(tmp_path, cell):
    """Every way calamine accepts to write a far reference is measured before calamine allocates
    the 1M x 16k grid it asks for (the process would abort)."""
    sheet_xml = f'<sheetData><row r="1"><c r="A1"><v>2</v></c>{cell}</row></sheetData>'
    with pytest.raises(ProcessingError) as info:
        run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    assert info.value.code == "too_large"
    assert "has cells in 16,384 columns" in info.value.message  # the scan's words, before calamine


def test_a_sheet_starting_at_c3_keeps_its_place(tmp_path):
    """Rows above and columns left of the data stay blank in the CSV, the header row included, and an
    error cell lands in its own column."""
    sheet_xml = ('<sheetData><row r="3"><c r="C3" t="inlineStr"><is><t>a</t></is></c><c r="D3" t="inlineStr">'
                 '<is><t>b</t></is></c></row><row r="4"><c r="C4"><v>1</v></c><c r="D4" t="e"><v>#DIV/0!</v></c>'
                 '</row><row r="6"><c r="C6"><v>2</v></c><c r="D6"><v>3</v></c></row><row r="9"><c r="C9" s="0"/>'
                 '</row></sheetData>')
    run = run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    sheet = run.result["sheets"][0]
    assert read_csv(run) == [[], [], ["", "", "a", "b"], ["", "", "1", "#DIV/0!"], [], ["", "", "2", "3"]]
    assert (sheet["rows"], sheet["columns"], sheet["header"], sheet["error_cells"]) == (6, 4, True, 1)
    names = [c["name"] for c in sheet["column_summaries"]]
    assert names == ["column_1", "column_2", "a", "b"]


@pytest.mark.parametrize("rows", [3, 25_000])  # one batch, and several (the second is written by join)
def test_csv_is_what_the_csv_module_writes(tmp_path, rows):
    """Batches whose cells need no quoting are written with one join; the bytes must be the csv
    module's, whatever mix of text, numbers and quoting each batch holds."""
    cells, expected = {}, []
    texts = ["plain", "a,b", 'say "hi"', "two\nlines", "=1+1", "中文", " padded "]
    for r in range(1, rows + 1):
        text = texts[r % len(texts)] if r % 1000 == 7 or rows < 10 else f"row {r}"
        number = r * 0.5
        cells[f"A{r}"], cells[f"B{r}"], cells[f"C{r}"] = text, number, r
        shown = "'" + text if text.startswith("=") else text
        expected.append([shown, str(int(number)) if number.is_integer() else str(number), str(r)])
    sheet_xml = rows_xml(cells).replace("<t>", '<t xml:space="preserve">')
    run = run_processor(P, hand_workbook(tmp_path / "w.xlsx", sheet_xml))
    want = tmp_path / "want.csv"
    with open(want, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(expected)
    assert run.artifacts[run.result["sheets"][0]["csv"]].read_bytes() == want.read_bytes()


def _far_cell_xls(tmp_path, corpus, row: int, col: int):
    """The corpus's xls with its first NUMBER record moved to (row, col): a well-formed record."""
    import shutil
    import struct

    import olefile

    path = tmp_path / "far.xls"
    shutil.copy(corpus / "xls_calamine_base.xls", path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        pos = 0
        while struct.unpack_from("<H", data, pos)[0] != 0x0203:  # NUMBER
            pos += 4 + struct.unpack_from("<H", data, pos + 2)[0]
        struct.pack_into("<HH", data, pos + 4, row, col)
        ole.write_stream("Workbook", bytes(data))
    return path


def test_xls_far_cell_is_refused_before_calamine_allocates(tmp_path, corpus):
    """One cell record at row 65,535, column 16,383 asks calamine for a billion-cell grid (34 GB: the
    process aborts); the BIFF records are measured first."""
    with pytest.raises(ProcessingError) as info:
        run_processor(XlsProcessor(), _far_cell_xls(tmp_path, corpus, 65535, 16383))
    assert info.value.code == "too_large" and "16,384 columns" in info.value.message
    run = run_processor(XlsProcessor(), _far_cell_xls(tmp_path, corpus, 3, 12))  # near: read as usual
    assert run.result["sheets"][0]["columns"] == 13


def _xlwt_book(path, cells):
    """An xls written by xlwt: ``cells`` maps (sheet, row, col) to text (shared strings)."""
    import xlwt

    book = xlwt.Workbook()
    sheets = {}
    for (sheet, row, col), text in cells.items():
        if sheet not in sheets:
            sheets[sheet] = book.add_sheet(sheet)
        sheets[sheet].write(row, col, text)
    book.save(str(path))
    return path


def test_xls_shared_strings_measured_as_calamine_reads_them(tmp_path):
    """Thousands of strings, wide characters among them, split over CONTINUE records: the text they
    expand to is counted exactly, so a limit one character below what calamine puts in the cells is
    refused and one at it is not."""
    import random

    from python_calamine import CalamineWorkbook

    rnd = random.Random(3)
    texts = ["".join(rnd.choice("abcdefgh中文字éñ") for _ in range(rnd.randint(1, 400))) for _ in range(3000)]
    cells = {("S1" if i % 2 else "S2", i // 2, i % 3): t for i, t in enumerate(texts + texts[:500])}
    path = _xlwt_book(tmp_path / "strings.xls", cells)
    book = CalamineWorkbook.from_path(str(path))
    total = sum(len(v) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python()
                for v in row if isinstance(v, str))
    with pytest.raises(ProcessingError) as info:
        run_processor(XlsProcessor(), path, limits={"max_extracted_chars": total - 1})
    assert info.value.code == "too_large" and "characters" in info.value.message
    run = run_processor(XlsProcessor(), path, limits={"max_extracted_chars": total})
    assert sum(s["rows"] for s in run.result["sheets"]) == 3500


def test_xls_shared_string_bomb_is_refused(tmp_path):
    """One 30,000-character string in 2,000 cells is 60 million characters once calamine copies it in."""
    path = _xlwt_book(tmp_path / "bomb.xls", {("S", r, 0): "x" * 30_000 for r in range(2000)})
    with pytest.raises(ProcessingError) as info:
        run_processor(XlsProcessor(), path, limits={"max_extracted_chars": 10_000_000})
    assert info.value.code == "too_large"


def test_a_shared_string_longer_than_a_read_block_is_measured_whole(tmp_path):
    """The scan reads parts a megabyte at a time: a 1.5 MB string spans blocks and still counts
    whole, so two cells pointing at it are refused below 3 million characters."""
    import random

    text = "".join(random.Random(5).choices("abcdefghij >", k=1_500_000))  # ">": blocks may end inside it
    cells = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>0</v></c></row>'
    path = hand_workbook(tmp_path / "long.xlsx", f"<sheetData>{cells}</sheetData>", shared=[text, "a"])
    with pytest.raises(ProcessingError) as info:
        run_processor(P, path, limits={"max_extracted_chars": 2_999_999})
    assert info.value.code == "too_large"
    run = run_processor(P, path, limits={"max_extracted_chars": 3_100_000})
    assert run.result["sheets"][0]["columns"] == 2


def _patched_dimensions(tmp_path, corpus, first_row: int, last_row: int, last_col: int):
    """The corpus's xls with its last sheet's DIMENSIONS record rewritten (BIFF8: 32-bit rows)."""
    import shutil
    import struct

    import olefile

    path = tmp_path / "dims.xls"
    shutil.copy(corpus / "xls_calamine_base.xls", path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        data = bytearray(ole.openstream("Workbook").read())
        pos, last = 0, None
        while pos + 4 <= len(data):
            kind, size = struct.unpack_from("<HH", data, pos)
            last = pos if kind == 0x0200 else last
            pos += 4 + size
        struct.pack_into("<IIHH", data, last + 4, first_row, last_row, 0, last_col)
        ole.write_stream("Workbook", bytes(data))
    return path


@pytest.mark.parametrize("first_row,last_row,last_col,code", [
    (0, 1_000_000, 16_000, "too_large"),  # calamine reserves 640 GB when it opens the workbook
    (222, 2, 2, "corrupt_file"),  # a first row past the last: calamine's count wraps to 4 billion rows
])
def test_xls_dimensions_are_checked_before_calamine_opens_the_file(tmp_path, corpus, first_row, last_row,
                                                                   last_col, code):
    with pytest.raises(ProcessingError) as info:
        run_processor(XlsProcessor(), _patched_dimensions(tmp_path, corpus, first_row, last_row, last_col))
    assert info.value.code == code, info.value.message


def _zip_patched(tmp_path, corpus, name: str, patch) -> object:
    data = bytearray((corpus / name).read_bytes())
    patch(data)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def _eocd(data: bytearray) -> int:
    return data.rindex(b"PK\x05\x06")


@pytest.mark.parametrize("patch", [
    # "version needed to extract" 18.9 in the central directory: zipfile raises NotImplementedError
    lambda d: d.__setitem__(slice(d.index(b"PK\x01\x02") + 6, d.index(b"PK\x01\x02") + 8), (189).to_bytes(2, "little")),
    # the central directory said to start 1,000 bytes later than it does: members at negative offsets
    lambda d: d.__setitem__(slice(_eocd(d) + 16, _eocd(d) + 20),
                            (int.from_bytes(d[_eocd(d) + 16:_eocd(d) + 20], "little") + 1000).to_bytes(4, "little")),
    # the first member's local name flagged UTF-8 but not UTF-8
    lambda d: (d.__setitem__(slice(6, 8), (int.from_bytes(d[6:8], "little") | 0x800).to_bytes(2, "little")),
               d.__setitem__(30, 0xFF)),
], ids=["version", "offsets", "name"])
def test_damaged_zip_headers_are_damaged_files(tmp_path, corpus, patch):
    """Bytes a flip can spoil in a zip's headers: each is corrupt_file, not an unexpected error."""
    with pytest.raises(ProcessingError) as info:
        run_processor(P, _zip_patched(tmp_path, corpus, "xlsx_merge_cells.xlsx", patch))
    assert info.value.code == "corrupt_file", info.value.message
