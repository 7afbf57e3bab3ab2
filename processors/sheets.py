"""A workbook's sheets read through calamine, the same way for xlsx, xls and ods: cells written as
Excel shows them to one formula-escaped CSV per sheet, column statistics fed in batches, and the
first rows kept for ``text.md``.

calamine hands each row over as a list: numbers as floats, empty cells as ``""``, dates, times and
durations as ``datetime`` objects, error cells as ``""`` (the xlsx scan supplies their text).
Python memory stays flat whatever the row count: rows go to the CSV as they come, statistics
take batches of ``BATCH`` rows, and trailing empty rows are only counted until data follows.
"""
from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import markdown
from .safety import FORMULA_PREFIXES
from .tabular import TableStats

BATCH = 10_000
PREVIEW_ROWS = 20
PREVIEW_COLUMNS = 30
PREVIEW_CELL = 200
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
FORMULA_FIRST = frozenset(FORMULA_PREFIXES)


def sheet_file_name(index: int, title: str) -> str:
    safe = UNSAFE.sub("-", title).strip("-.")[:60] or "sheet"
    return f"sheet-{index}-{safe}.csv"


def column_letters(n: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def excel_duration(value: datetime.timedelta) -> str:
    """A duration as Excel's ``[h]:mm:ss`` shows it: ``255:10:10``, not ``10 days, 15:10:10``."""
    negative = value < datetime.timedelta(0)
    value = -value if negative else value
    hours = value.days * 24 + value.seconds // 3600
    text = f"{'-' if negative else ''}{hours}:{value.seconds // 60 % 60:02d}:{value.seconds % 60:02d}"
    return text + f".{value.microseconds // 1000:03d}" if value.microseconds >= 1000 else text


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) < 1e16 else value


CONVERT: dict[type, Callable[[Any], Any]] = {
    float: _number,
    int: lambda v: v,
    bool: lambda v: "TRUE" if v else "FALSE",
    datetime.datetime: lambda v: v.isoformat(sep=" "),
    datetime.date: lambda v: v.isoformat(),
    datetime.time: lambda v: v.isoformat(timespec="milliseconds" if v.microsecond else "seconds"),
    datetime.timedelta: excel_duration,
}


def display(value: Any) -> Any:
    """A cell as Excel shows it (formula escaping is the CSV's business, not this one's)."""
    convert = CONVERT.get(type(value))
    return convert(value) if convert else value


def csv_row(row: list) -> list:
    """A row for the CSV: text that a spreadsheet would run as a formula gets a leading ``'``."""
    return [("'" + v if v[:1] in FORMULA_FIRST else v) if type(v) is str else display(v) for v in row]


def _column(values: Iterable) -> pd.Series:
    """One column of a batch typed for the statistics: empties null, dates as dates, durations as text."""
    s = pd.Series(list(values), dtype=object)
    s = s.where(s != "", None).infer_objects()
    if s.dtype == object:
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind == "date":
            s = pd.to_datetime(s, errors="coerce")
        elif kind == "timedelta":
            s = s.map(lambda v: excel_duration(v) if isinstance(v, datetime.timedelta) else v)
    elif pd.api.types.is_timedelta64_dtype(s):
        s = s.map(lambda v: None if pd.isna(v) else excel_duration(v.to_pytimedelta()), na_action="ignore")
    return s


@dataclass
class SheetData:
    """What reading one sheet produced."""

    rows: int = 0
    columns: int = 0
    header: bool = False
    error_cells: int = 0
    chars: int = 0
    summaries: list = field(default_factory=list)
    preview: list = field(default_factory=list)


class SheetReader:
    """Reads one calamine sheet to ``out`` (a CSV file) with statistics and a preview."""

    def __init__(self, sheet: Any, errors: dict[int, dict[int, str]] | None = None):
        start = sheet.start
        self.sheet = sheet
        self.pad = start[1] if start else 0
        self.width = self.pad + sheet.width if start else 0
        self.errors = errors or {}
        self.data = SheetData(columns=self.width)
        self.stats: TableStats | None = None
        self.batch: list[list] = []

    def read(self, out: Any, progress: Callable[[int], None]) -> SheetData:
        writer = csv.writer(out)
        data, errors, pad, width = self.data, self.errors, [""] * self.pad, self.width
        pending = 0  # empty rows not written yet: only written if data follows
        for r, row in enumerate(self.sheet.iter_rows()):
            if pad:
                row = pad + row
            errs = errors.get(r)
            if row.count("") == width and not errs:
                pending += 1
                continue
            if pending:
                writer.writerows([[]] * pending)
                data.rows += pending
                pending = 0
            line = csv_row(row)
            if errs:
                for c, text in errs.items():
                    if c < width:
                        line[c] = text
                data.error_cells += len(errs)
            writer.writerow(line)
            data.rows += 1
            if len(data.preview) < PREVIEW_ROWS:
                data.preview.append(self._preview(row, errs))
            self._stats(row)
            if data.rows % BATCH == 0:
                progress(data.rows)
        self._flush()
        data.summaries = self.stats.summaries() if self.stats else []
        progress(data.rows)
        return data

    def _stats(self, row: list) -> None:
        if self.stats is None:
            self._start_stats(row)
            if self.data.header:
                return
        self.batch.append(row)
        if len(self.batch) >= BATCH:
            self._flush()

    def _start_stats(self, first: list) -> None:
        """The first row with data is the header when all its cells are non-blank text."""
        filled = [v for v in first if v != ""]
        header = bool(filled) and all(isinstance(v, str) and v.strip() for v in filled)
        self.data.header = header
        names = [str(v) if header and v != "" else f"column_{i + 1}" for i, v in enumerate(first)]
        self.stats = TableStats(names)

    def _flush(self) -> None:
        if not self.batch or self.stats is None:
            return
        for stats, values in zip(self.stats.columns, zip(*self.batch, strict=True), strict=False):
            stats.feed(_column(values))
        self.stats.rows += len(self.batch)
        self.batch.clear()

    def _preview(self, row: list, errs: dict[int, str] | None) -> list:
        cells = [display(v) for v in row[:PREVIEW_COLUMNS]]
        for c, text in (errs or {}).items():
            if c < len(cells):
                cells[c] = text
        return [str(v)[:PREVIEW_CELL] for v in cells]


def sheet_markdown(name: str, kind: str, data: SheetData | None) -> str:
    """A sheet for ``text.md``: its name as a heading, then its first rows as a table (saying so)."""
    text = markdown.heading(name, 2) + "\n"
    if kind != "worksheet":
        return text + f"*A {kind} sheet: it holds no cells.*\n\n"
    if data is None or not data.rows:
        return text + "*Empty sheet.*\n\n"
    width = min(data.columns, PREVIEW_COLUMNS)
    rows = [r + [""] * (width - len(r)) for r in data.preview]
    if data.header:
        text += markdown.table(rows)
    else:
        text += markdown.table(rows, header=[column_letters(i + 1) for i in range(width)])
    note = f"the first {len(data.preview):,} rows with data, of {data.rows:,} rows"
    if data.columns > width:
        note += f"; {width} of {data.columns:,} columns"
    return text + f"\n*Showing {note}.*\n\n"
