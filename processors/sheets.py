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
from itertools import islice
from typing import Any

import numpy as np
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
NEEDS_QUOTES = re.compile('[,"\r\n]')
FORMULA_START = re.compile("^[" + re.escape("".join(FORMULA_PREFIXES)) + "]", re.M)


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
    return [(("'" + v) if v[:1] in FORMULA_FIRST else v) if (t := type(v)) is str
            else (int(v) if -1e15 < v < 1e15 and v.is_integer() else v) if t is float
            else display(v) for v in row]


def _numbers_for_csv(values: tuple, arr: np.ndarray) -> list | tuple:
    """Whole numbers written as Excel shows them (``3``, not ``3.0``), decided for the column at once."""
    whole = (arr == np.floor(arr)) & (np.abs(arr) < 1e15)
    if whole.all():
        return arr.astype(np.int64).tolist()
    if not whole.any():
        return values
    return [int(v) if w else v for v, w in zip(values, whole.tolist(), strict=True)]


def _dates(values: tuple, kind: str) -> tuple[list, pd.Series]:
    series = pd.to_datetime(pd.Series(values, dtype=object))
    arr = series.to_numpy()
    if kind == "date" and (arr.astype("datetime64[D]") == arr).all():  # "date" may mix in date-times
        return np.datetime_as_string(arr, unit="D").tolist(), series
    unit = "s" if (arr.astype("datetime64[s]") == arr).all() else "ms"
    return [c.replace("T", " ") for c in np.datetime_as_string(arr, unit=unit).tolist()], series


ISO_DURATION = re.compile(r"(-?)P(?:(\d+)D)?T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")
MAYBE_DURATION = re.compile(r"^-?P(?:\d+D)?T\d", re.M)


def iso_durations(values: tuple) -> tuple:
    """ODF durations (calamine hands ``PT255H10M10S`` over as text) as Excel shows them: ``255:10:10``."""
    if not any(type(v) is str for v in values) or not MAYBE_DURATION.search(
            "\n".join(v for v in values if type(v) is str)):
        return values
    return tuple(_iso_duration(v) if type(v) is str else v for v in values)


def _iso_duration(text: str) -> object:
    m = ISO_DURATION.fullmatch(text)
    if not m or text.endswith("T"):
        return text
    sign, days, hours, minutes, seconds = m.groups()
    value = datetime.timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                               seconds=float(seconds or 0))
    return -value if sign else value


def _convert(values: tuple) -> tuple[list | tuple, pd.Series, str]:
    """One column of a batch: (its cells for the CSV, a series typed for the statistics, its kind:
    ``number``, ``text`` (every cell a str) or ``mixed``).

    Decided per column, in C where the column is of one kind (most are), cell by cell otherwise."""
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind in ("floating", "integer"):
        arr = np.array(values, dtype=np.float64)
        return _numbers_for_csv(values, arr), pd.Series(arr), "number"
    if kind == "string":
        series = pd.Series(values, dtype=object)
        if "" in values:
            series = series.where(series != "", None)
        if FORMULA_START.search("\n".join(values)):
            return csv_row(values), series, "text"
        return values, series, "text"
    if kind in ("date", "datetime"):
        try:
            return *_dates(values, kind), "text"
        except (ValueError, OverflowError):  # out of pandas' range: cell by cell
            return csv_row(values), _column(values), "mixed"
    if kind == "boolean":
        return ["TRUE" if v else "FALSE" for v in values], pd.Series(values, dtype=bool), "text"
    return csv_row(values), _column(values), "mixed"


def csv_text(cells: list | tuple, kind: str) -> list | tuple | None:
    """The cells as ``csv.writer`` writes them, when none needs quoting (then a batch is written with
    one join, twice as fast as the writer); None when some cell needs the writer."""
    if kind == "number":
        return list(map(str, cells))  # str(float) is repr, as the writer writes floats
    if kind == "mixed":
        cells = [v if (t := type(v)) is str else str(v) if t is int or t is float else None for v in cells]
        if None in cells:
            return None
    return None if NEEDS_QUOTES.search("\x00".join(cells)) else cells


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


def _with_errors(line: list, errs: dict[int, str] | None) -> list:
    """Error cells as Excel shows them (``#DIV/0!``): calamine gives them as empty strings."""
    for c, text in (errs or {}).items():
        if c < len(line):
            line[c] = text
    return line


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
    """Reads one calamine sheet to ``out`` (a CSV file) with statistics and a preview, a batch of
    rows at a time: rows are turned into columns once and every decision is made per column."""

    def __init__(self, sheet: Any, errors: dict[int, dict[int, str]] | None = None, iso_durations: bool = False):
        start = sheet.start
        self.sheet = sheet
        self.pad = start[1] if start else 0
        self.width = self.pad + sheet.width if start else 0
        self.errors = errors or {}
        self.iso_durations = iso_durations  # ods: durations arrive as ISO 8601 text
        self.data = SheetData(columns=self.width)
        self.stats: TableStats | None = None
        self.writer: Any = None
        self.out: Any = None
        self.pending = 0  # empty rows not written yet: only written if data follows

    def read(self, out: Any, progress: Callable[[int], None]) -> SheetData:
        self.out = out
        self.writer = csv.writer(out)
        rows = iter(self.sheet.iter_rows())
        offset = 0
        while batch := list(islice(rows, BATCH)):
            self._batch(batch, offset)
            offset += len(batch)
            progress(self.data.rows)
        self.data.summaries = self.stats.summaries() if self.stats else []
        progress(self.data.rows)
        return self.data

    def _batch(self, batch: list[list], offset: int) -> None:
        n, data = len(batch), self.data
        columns = list(zip(*batch, strict=True))
        if self.pad:
            columns = [("",) * n] * self.pad + columns
        errors = {i - offset: e for i in range(offset, offset + n) if (e := self.errors.get(i))} if self.errors else {}
        filled = _filled(columns, n, errors)
        if filled is None:
            first, last = 0, n - 1
        elif filled.any():
            where = np.flatnonzero(filled)
            first, last = int(where[0]), int(where[-1])
        else:
            self.pending += n
            return
        if self.pending + first:  # empty rows above this data: blank lines, as in the sheet
            self.writer.writerows([()] * (self.pending + first))
            data.rows += self.pending + first
        self.pending = n - 1 - last
        data.rows += last - first + 1
        data.error_cells += sum(len(e) for e in errors.values())
        if len(data.preview) < PREVIEW_ROWS:
            for i in range(first, last + 1):
                if filled is None or filled[i]:
                    data.preview.append(self._preview(batch[i], errors.get(i)))
                    if len(data.preview) >= PREVIEW_ROWS:
                        break
        if self.stats is None:
            head = [""] * self.pad + batch[first] if self.pad else batch[first]
            self._start_stats(head)
            if data.header:
                self.writer.writerow(_with_errors(csv_row(head), errors.get(first)))
                first += 1
        if first <= last:
            self._write(columns, first, last, filled, errors)

    def _write(self, columns: list[tuple], first: int, last: int, filled: np.ndarray | None,
               errors: dict[int, dict[int, str]]) -> None:
        """Rows ``first..last`` of the batch: cells for the CSV and series for the statistics together."""
        keep = None if filled is None else filled[first:last + 1]
        if keep is not None and keep.all():
            keep = None
        cells, texts = self._columns(columns, first, last, keep)
        plain = texts is not None and len(texts) > 1 and not any(
            NEEDS_QUOTES.search(t) for e in errors.values() for t in e.values())
        rows = list(zip(*(texts if plain else cells), strict=True))
        if keep is not None:
            for i in np.flatnonzero(~keep).tolist():
                rows[i] = ()
        for i, errs in errors.items():
            if first <= i <= last:
                rows[i - first] = _with_errors(list(rows[i - first]), errs)
        if plain:  # a one-cell row is the writer's (it quotes an empty one)
            self.out.write("\r\n".join(map(",".join, rows)) + "\r\n")
        else:
            self.writer.writerows(rows)

    def _columns(self, columns: list[tuple], first: int, last: int,
                 keep: np.ndarray | None) -> tuple[list, list | None]:
        """Each column's cells for the CSV, and the same as text while no column needs the csv
        writer (else None); the statistics are fed on the way."""
        assert self.stats is not None
        whole = first == 0 and last == len(columns[0]) - 1
        cells: list = []
        texts: list | None = []
        for stats, values in zip(self.stats.columns, columns, strict=False):
            values = values if whole else values[first:last + 1]
            column, series, kind = _convert(iso_durations(values) if self.iso_durations else values)
            cells.append(column)
            if texts is not None:
                text = csv_text(column, kind)
                if text is None:
                    texts = None
                else:
                    texts.append(text)
            stats.feed(series[keep] if keep is not None else series)
        self.stats.rows += last - first + 1 if keep is None else int(keep.sum())
        return cells, texts

    def _start_stats(self, first: list) -> None:
        """The first row with data is the header when all its cells are non-blank text."""
        filled = [v for v in first if v != ""]
        header = bool(filled) and all(isinstance(v, str) and v.strip() for v in filled)
        self.data.header = header
        names = [str(v) if header and v != "" else f"column_{i + 1}" for i, v in enumerate(first)]
        self.stats = TableStats(names)

    def _preview(self, row: list, errs: dict[int, str] | None) -> list:
        row = [""] * self.pad + list(row) if self.pad else row
        row = list(iso_durations(tuple(row))) if self.iso_durations else row
        cells = [display(v) for v in row[:PREVIEW_COLUMNS]]
        for c, text in (errs or {}).items():
            if c < len(cells):
                cells[c] = text
        return [str(v)[:PREVIEW_CELL] for v in cells]


def _filled(columns: list[tuple], n: int, errors: dict[int, dict[int, str]]) -> np.ndarray | None:
    """Which rows of the batch hold something (None: all of them, the common case, decided by
    one column with no empty cell). Error cells arrive empty but count as filled."""
    if any("" not in col for col in columns):
        return None
    filled = np.zeros(n, dtype=bool)
    for col in columns:
        filled |= np.array(col, dtype=object) != ""
    if errors:
        filled[list(errors)] = True
    return filled


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
