"""The spreadsheet processors: Excel xlsx/xlsm, legacy Excel xls (BIFF) and OpenDocument ods, all
read through calamine (Rust, about ten times openpyxl's speed): sheets with kind and visibility,
column summaries, one formula-escaped CSV per sheet, and ``text.md`` with each sheet's first rows.

For xlsx a streamed pass over the zip runs first (:mod:`processors.xlsx_scan`): it gives what
calamine does not (formula and merged-range counts, error cells' text, defined names, the date
system) and checks the real extent and expanded text of every sheet against the limits before
calamine allocates anything. xls and ods are confirmed by content (an OLE file with a
``Workbook`` stream, a zip whose ``mimetype`` says spreadsheet) and read by calamine alone.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import warmup
from .ooxml import is_encrypted_ooxml, open_ooxml
from .safety import OLE_MAGIC, ZIP_MAGIC, check_zip, zip_errors
from .xls_scan import check_extents, check_grid, is_encrypted
from .xlsx_scan import SheetInfo, scan, scan_ods

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
STATES = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}
KINDS = {"WorkSheet": "worksheet", "ChartSheet": "chart", "DialogSheet": "dialog", "MacroSheet": "macro",
         "Vba": "vba"}


@dataclass
class Book:
    """What is known of a workbook before its cells are read."""

    sheets: list[SheetInfo]
    defined_names: list[dict] | None = None
    date_system: str | None = None
    macros: bool | None = None
    extra: dict = field(default_factory=dict)
    workbook: Any = None  # calamine's, when opening the format needed it already


class SpreadsheetProcessor(Processor):
    """Shared by the three formats: open (per format), then every sheet through calamine."""

    steps = ("Open", "Read sheets", "Summarise")
    kind = "spreadsheet"
    limits = builtin_limits.XLSX
    result_template = "processors:templates/xlsx.jinja2"

    def open(self, ctx: Any) -> Book:  # pragma: no cover - abstract
        raise NotImplementedError

    def warm(self) -> None:
        warmup.load("python_calamine", "processors.sheets", "olefile", "defusedxml.ElementTree")

    def process(self, ctx: Any) -> dict:
        if os.path.getsize(ctx.path) == 0:
            raise ProcessingError("empty_file", "The file is empty.")
        with ctx.step("Open", total=2) as step:
            book = self.open(ctx)
            step.advance(message="checked the container")
            wb = book.workbook or self._calamine(ctx)
            step.advance(message=f"{len(book.sheets)} sheets")
        try:
            return self._read(ctx, wb, book)
        finally:
            wb.close()

    def _calamine(self, ctx: Any) -> Any:
        import python_calamine as pc

        try:
            # uploads are stored by job id, without an extension; calamine picks its reader (and tells a
            # password-protected file from a damaged one) by the extension, so it gets a link with one
            with tempfile.TemporaryDirectory(prefix="pj-sheet-") as tmp:
                link = os.path.join(tmp, "book" + self.extensions[0])
                os.symlink(os.path.abspath(ctx.path), link)
                return pc.CalamineWorkbook.from_path(link)  # the file stays open after the link goes
        except pc.PasswordError:
            raise ProcessingError("encrypted", f"The {self.kind} is protected with a password; save it without "
                                               "one and upload it again.") from None
        except Exception as exc:
            ctx.log.warning("job %s: calamine could not open the %s: %r", ctx.job_id, self.kind, exc)
            raise ProcessingError("corrupt_file", f"The {self.kind} could not be read: it looks damaged.") from None

    def _sheet(self, ctx: Any, wb: Any, info: SheetInfo) -> Any:
        try:
            return wb.get_sheet_by_name(info.name)
        except Exception as exc:
            ctx.log.warning("job %s: calamine could not read sheet %r: %r", ctx.job_id, info.name, exc)
            raise ProcessingError("corrupt_file", f"The sheet {info.name!r} could not be read: the {self.kind} "
                                                  "looks damaged.") from None

    def check_sheet(self, ctx: Any, info: SheetInfo, sheet: Any) -> None:
        """Limits on what calamine loaded (for xlsx and ods they were checked before, on the XML)."""
        check_grid(info.name, sheet.total_height, sheet.total_width, ctx.limits)

    def _read(self, ctx: Any, wb: Any, book: Book) -> dict:
        from .sheets import SheetReader, sheet_file_name, sheet_markdown  # pandas: the worker's import only

        limits = ctx.limits
        results, texts = [], []
        cells = 0
        total = sum(s.rows for s in book.sheets) or None
        with ctx.step("Read sheets", total=total) as step:
            done = 0
            for index, info in enumerate(book.sheets, start=1):
                if info.kind != "worksheet":
                    results.append({"name": info.name, "kind": info.kind, "state": info.state})
                    texts.append(sheet_markdown(info.name, info.kind, None))
                    continue
                sheet = self._sheet(ctx, wb, info)
                self.check_sheet(ctx, info, sheet)
                name = sheet_file_name(index, info.name)
                message = f"sheet {index} of {len(book.sheets)}"

                def progress(n: int, before: int = done, message: str = message) -> None:
                    step.update(before + n, message=f"{message}, row {n:,}")

                with open(ctx.artifact(name), "w", encoding="utf-8", newline="") as out:
                    data = SheetReader(sheet, info.errors, iso_durations=self.name == "ods").read(out, progress)
                del sheet
                done += data.rows
                cells += data.rows * data.columns
                if cells > limits.max_cells:
                    raise ProcessingError("too_large", f"The workbook has more than {limits.max_cells:,} cells.")
                results.append(self._summary(info, name, data))
                texts.append(sheet_markdown(info.name, "worksheet", data))

        with ctx.step("Summarise", total=1) as step:
            ctx.artifact("text.md").write_text("".join(texts), encoding="utf-8")
            result = {
                "format": self.name,
                "sheets": results,
                "sheet_count": len(results),
                "defined_names": book.defined_names,
                "macros": book.macros,
                "date_system": book.date_system,
                "formulas": _total(results, "formulas"),
                "merged_ranges": _total(results, "merged_ranges"),
                "error_cells": _total(results, "error_cells"),
                "rows": _total(results, "rows"),
                **book.extra,
            }
            step.advance()
        return result

    def _summary(self, info: SheetInfo, name: str, data: Any) -> dict:
        from .sheets import column_letters

        return {
            "name": info.name,
            "kind": "worksheet",
            "state": info.state,
            "dimensions": f"A1:{column_letters(data.columns)}{data.rows}" if data.rows else None,
            "declared_dimensions": info.declared,
            "rows": data.rows,
            "columns": data.columns,
            "header": data.header,
            "csv": name,
            "formulas": info.formulas if self.name == "xlsx" else None,
            "merged_ranges": info.merges,
            "error_cells": data.error_cells,
            "column_summaries": data.summaries,
        }


def _total(results: list[dict], key: str) -> int | None:
    values = [s.get(key) for s in results if s.get("kind") == "worksheet"]
    return None if values and all(v is None for v in values) else sum(v or 0 for v in values)


class XlsxProcessor(SpreadsheetProcessor):
    name = "xlsx"
    kind = "workbook"
    extensions = (".xlsx", ".xlsm")
    media_types = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/vnd.ms-excel.sheet.macroEnabled.12")
    description = ("Excel (xlsx, xlsm, transitional and strict): sheets with kind, visibility and real dimensions, "
                   "cells as Excel shows them (errors, dates, durations), column summaries, formula and "
                   "merged-cell counts, defined names, macros present (never run), a CSV per sheet and text.md.")

    def sniff(self, head: bytes) -> bool:
        """A zip (not an OpenDocument one, whose first member is ``mimetype``), or an OLE file: an
        encrypted workbook is one, and is then refused with its own code."""
        if head.startswith(ZIP_MAGIC):
            return head[30:30 + int.from_bytes(head[26:28], "little")] != b"mimetype"
        return head.startswith(OLE_MAGIC)

    def open(self, ctx: Any) -> Book:
        zf = open_ooxml(ctx.path, ctx.limits, required="xl/workbook.xml", kind="Excel")
        with zf:
            wb = scan(zf, ctx.limits)
        if not wb.sheets:
            raise ProcessingError("corrupt_file", "The workbook lists no sheets: it looks damaged.")
        return Book(sheets=wb.sheets, defined_names=wb.defined_names, macros=wb.macros,
                    date_system="1904" if wb.date1904 else "1900", extra={"strict": wb.strict})


class _CalamineOnly(SpreadsheetProcessor):
    """xls and ods: the sheets as calamine lists them, limits checked on what it loaded."""

    def open(self, ctx: Any) -> Book:
        macros = self.confirm(ctx)
        wb = self._calamine(ctx)
        sheets = [SheetInfo(name=m.name, state=STATES.get(_enum(m.visible), "visible"),
                            kind=KINDS.get(_enum(m.typ), "worksheet")) for m in wb.sheets_metadata]
        return Book(sheets=sheets, macros=macros, workbook=wb)

    def confirm(self, ctx: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def check_sheet(self, ctx: Any, info: SheetInfo, sheet: Any) -> None:
        super().check_sheet(ctx, info, sheet)
        info.merges = len(sheet.merged_cell_ranges or ()) if self.name == "xls" else None


class XlsProcessor(_CalamineOnly):
    name = "xls"
    kind = "Excel 97-2003 workbook"
    extensions = (".xls",)
    media_types = ("application/vnd.ms-excel",)
    description = ("Excel 97-2003 (xls, BIFF): sheets with kind and visibility, cells as Excel shows them, column "
                   "summaries, merged-cell counts, macros present (never run), a CSV per sheet and text.md.")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(OLE_MAGIC)

    def confirm(self, ctx: Any) -> bool:
        import olefile

        try:
            with olefile.OleFileIO(str(ctx.path)) as ole:
                entries = ole.listdir(streams=True, storages=True)
                streams = {"/".join(e).lower() for e in entries}
                books = [ole.openstream(e).read() for e in entries if "/".join(e).lower() in ("workbook", "book")]
        except Exception:
            raise ProcessingError("corrupt_file", "The file is not a readable Excel 97-2003 workbook: its OLE "
                                                  "container is damaged.") from None
        if "encryptioninfo" in streams or "encryptedpackage" in streams or any(map(is_encrypted, books)):
            raise ProcessingError("encrypted", "The workbook is encrypted with a password; save it without one and "
                                               "upload it again.")
        if "workbook" not in streams and "book" not in streams:
            other = "a Word document" if "worddocument" in streams else "no workbook"
            raise ProcessingError("unsupported_content", f"The file is an Office file holding {other}, not an "
                                                         "Excel 97-2003 workbook.")
        for book in books:  # each sheet's extent, before calamine allocates its grid
            check_extents(book, ctx.limits)
        return any(s.startswith("_vba_project_cur") for s in streams)


class OdsProcessor(_CalamineOnly):
    name = "ods"
    kind = "OpenDocument spreadsheet"
    extensions = (".ods",)
    media_types = ("application/vnd.oasis.opendocument.spreadsheet",)
    description = ("OpenDocument spreadsheets (ods): sheets with visibility, cells as shown, column summaries, "
                   "macros present (never run), a CSV per sheet and text.md.")

    def sniff(self, head: bytes) -> bool:
        """A zip; ODF puts an uncompressed ``mimetype`` member first, so when it is there it must say
        spreadsheet (an Office Open XML zip starts with ``[Content_Types].xml`` instead)."""
        if not head.startswith(ZIP_MAGIC):
            return False
        first = head[30:30 + int.from_bytes(head[26:28], "little")]
        if first == b"mimetype":
            return ODS_MIMETYPE in head[:120]
        return first != b"[Content_Types].xml"

    def confirm(self, ctx: Any) -> bool:
        with open(ctx.path, "rb") as f:
            head = f.read(8)
        if head.startswith(OLE_MAGIC) and is_encrypted_ooxml(ctx.path):
            raise ProcessingError("encrypted", "The file is encrypted with a password; save it without one and "
                                               "upload it again.")
        if not head.startswith(ZIP_MAGIC):
            raise ProcessingError("corrupt_file", "The file is not an OpenDocument spreadsheet (it is not a zip "
                                                  "container).")
        with check_zip(ctx.path, ctx.limits) as zf, zip_errors("spreadsheet"):
            names = set(zf.namelist())
            mimetype = zf.read("mimetype").strip() if "mimetype" in names else b""
            if mimetype != ODS_MIMETYPE or "content.xml" not in names:
                raise ProcessingError("unsupported_content", "The zip is not an OpenDocument spreadsheet (its "
                                                             "mimetype says otherwise or it has no content).")
            _read_all(zf)
            scan_ods(zf, ctx.limits)
            return any(n.startswith("Basic/") or n.startswith("Scripts/") for n in names)


def _enum(value: Any) -> str:
    """``SheetVisibleEnum.Hidden`` -> ``Hidden`` (calamine's enums have no ``name``)."""
    return str(value).rsplit(".", 1)[-1]


def _read_all(zf: zipfile.ZipFile) -> None:
    """Every member read once through zipfile, so a bad CRC or broken deflate data is caught here."""
    for info in zf.infolist():
        with zf.open(info) as f:
            while f.read(1 << 20):
                pass


@hookimpl
def jobs_register_processors():
    return [XlsxProcessor(), XlsProcessor(), OdsProcessor()]
