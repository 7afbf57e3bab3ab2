"""The xlsx processor (openpyxl, read-only streaming): sheets, column summaries, formulas, merges,
defined names, macros (never run), and one formula-escaped CSV per sheet.

Formula and merged-cell counts come from streaming each sheet's XML out of the zip, so memory stays
flat: openpyxl's read-only mode gives values, not structure. openpyxl parses with defusedxml
(installed as a dependency), so entity bombs are refused.
"""
from __future__ import annotations

import csv
import re
import zipfile
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from .ooxml import open_ooxml
from .safety import escape_formula
from .tabular import TableStats

BATCH = 10_000
XML_BLOCK = 1 << 20
FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")
MERGE = re.compile(rb"<(?:\w+:)?mergeCell[ >/]")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def count_tags(zf: zipfile.ZipFile, member: str) -> tuple[int, int]:
    """(formulas, merged ranges) in a sheet's XML, read in blocks; tags cut at a block edge are kept."""
    formulas = merges = 0
    tail = b""
    with zf.open(member) as f:
        while block := f.read(XML_BLOCK):
            data = tail + block
            cut = data.rfind(b"<")
            body, tail = (data[:cut], data[cut:]) if cut > len(data) - 64 else (data, b"")
            formulas += len(FORMULA.findall(body))
            merges += len(MERGE.findall(body))
    formulas += len(FORMULA.findall(tail))
    merges += len(MERGE.findall(tail))
    return formulas, merges


def sheet_file_name(index: int, title: str) -> str:
    safe = UNSAFE.sub("-", title).strip("-.")[:60] or "sheet"
    return f"sheet-{index}-{safe}.csv"


class XlsxProcessor(Processor):
    name = "xlsx"
    limits = builtin_limits.XLSX
    result_template = "processors:templates/xlsx.jinja2"
    extensions = (".xlsx", ".xlsm")
    media_types = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/vnd.ms-excel.sheet.macroEnabled.12")
    steps = ("Open", "Read sheets", "Summarise")
    description = ("Excel (xlsx, xlsm): sheets with dimensions and visibility, column summaries, formula and "
                   "merged-cell counts, defined names, macros present (never run), and a CSV per sheet.")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0")

    def process(self, ctx: Any) -> dict:
        import openpyxl

        if not openpyxl.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
            raise ProcessingError("unsupported_content", "Spreadsheets are refused: defusedxml is not installed.")
        limits = ctx.limits
        with ctx.step("Open", total=3) as step:
            zf = open_ooxml(ctx.path, limits, required="xl/workbook.xml", kind="Excel")
            with zf:
                names = set(zf.namelist())
                macros = "xl/vbaProject.bin" in names
                structure = {n: count_tags(zf, n) for n in names
                             if n.startswith("xl/worksheets/") and n.endswith(".xml")}
            step.advance(message="checked the container")
            # a file object, not the path: openpyxl refuses paths without an Excel extension, and
            # uploads are stored by job id
            source = open(ctx.path, "rb")
            try:
                wb = openpyxl.load_workbook(source, read_only=True, data_only=True, keep_links=False,
                                            keep_vba=False)
            except Exception as exc:
                source.close()
                raise ProcessingError("corrupt_file", f"The workbook could not be read: it looks damaged "
                                                      f"({type(exc).__name__}: {str(exc)[:200]}).") from None
            step.advance(message="opened the workbook")
            defined = _defined_names(wb)
            sheets = list(wb.worksheets)
            known = [ws.max_row for ws in sheets if isinstance(getattr(ws, "max_row", None), int)]
            total_rows = sum(known) if len(known) == len(sheets) else None
            step.advance(message=f"{len(sheets)} sheets")

        try:
            return self._read(ctx, wb, sheets, structure, defined, macros, total_rows)
        finally:
            wb.close()
            source.close()

    def _read(self, ctx: Any, wb: Any, sheets: list, structure: dict, defined: list, macros: bool,
              total_rows: int | None) -> dict:
        limits = ctx.limits
        results = []
        cells = 0
        with ctx.step("Read sheets", total=total_rows) as step:
            done = 0
            for index, ws in enumerate(sheets, start=1):
                path = getattr(ws, "_worksheet_path", "")
                formulas, merges = structure.get(path.lstrip("/"), (None, None))
                summary, rows, width = self._read_sheet(ctx, ws, index, len(sheets), step, done)
                done += rows
                cells += rows * width
                if cells > limits.max_cells:
                    raise ProcessingError("too_large", f"The workbook has more than {limits.max_cells:,} cells.")
                summary.update({"formulas": formulas, "merged_ranges": merges})
                results.append(summary)
            for chart in getattr(wb, "chartsheets", []):
                results.append({"name": chart.title, "kind": "chart", "state": getattr(chart, "sheet_state", None)})

        with ctx.step("Summarise", total=1) as step:
            result = {
                "sheets": results,
                "sheet_count": len(results),
                "defined_names": defined,
                "macros": macros,
                "date_system": "1904" if getattr(wb, "epoch", None) and wb.epoch.year == 1904 else "1900",
                "formulas": sum(s.get("formulas") or 0 for s in results),
                "merged_ranges": sum(s.get("merged_ranges") or 0 for s in results),
                "rows": sum(s.get("rows") or 0 for s in results),
            }
            step.advance()
        return result

    def _read_sheet(self, ctx: Any, ws: Any, index: int, count: int, step: Any, before: int) -> tuple[dict, int, int]:
        import pandas as pd

        limits = ctx.limits
        name = sheet_file_name(index, ws.title)
        rows_iter = ws.iter_rows(values_only=True)
        first = next(rows_iter, None)
        header = bool(first) and all(isinstance(v, str) and v.strip() for v in first if v is not None) \
            and any(v is not None for v in first)
        width = len(first) if first else 0
        if width > limits.max_columns:
            raise ProcessingError("too_large", f"The sheet {ws.title!r} has {width} columns; the limit is "
                                               f"{limits.max_columns}.")
        columns = [str(v) if header and v is not None else f"column_{i + 1}" for i, v in enumerate(first or ())]
        stats = TableStats(columns)
        batch: list[tuple] = [] if header or first is None else [first]
        rows = 0 if first is None else 1
        with open(ctx.artifact(name), "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            if first is not None:
                writer.writerow([escape_formula(_cell(v)) for v in first])
            for row in rows_iter:
                rows += 1
                if rows > limits.max_rows:
                    raise ProcessingError("too_large", f"The sheet {ws.title!r} has more than {limits.max_rows:,} "
                                                       "rows.")
                writer.writerow([escape_formula(_cell(v)) for v in row])
                batch.append(row[:width] if len(row) >= width else row + (None,) * (width - len(row)))
                if len(batch) >= BATCH:
                    stats.feed(pd.DataFrame(batch, columns=columns))
                    batch.clear()
                    step.update(before + rows, message=f"sheet {index} of {count}, row {rows:,}")
            if batch and width:
                stats.feed(pd.DataFrame(batch, columns=columns))
        step.update(before + rows, message=f"sheet {index} of {count}, row {rows:,}")
        summary = {
            "name": ws.title,
            "kind": "worksheet",
            "state": ws.sheet_state,
            "dimensions": _dimension(ws),
            "rows": rows,
            "columns": width,
            "header": header,
            "csv": name,
            "column_summaries": stats.summaries() if width else [],
        }
        return summary, rows, width


def _cell(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


def _dimension(ws: Any) -> str | None:
    try:
        return ws.calculate_dimension()
    except Exception:
        return None


def _defined_names(wb: Any) -> list[dict]:
    out = []
    try:
        for name, dn in list(wb.defined_names.items())[:500]:
            out.append({"name": name, "refers_to": str(dn.attr_text)[:500], "scope": None})
        for ws in wb.worksheets:
            for name, dn in list(getattr(ws, "defined_names", {}).items())[:100]:
                out.append({"name": name, "refers_to": str(dn.attr_text)[:500], "scope": ws.title})
    except Exception:
        pass
    return out


@hookimpl
def jobs_register_processors():
    return [XlsxProcessor()]
