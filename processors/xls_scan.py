"""One pass over an xls workbook's BIFF records, before calamine opens it.

calamine builds each sheet as one dense grid, sized first by the sheet's DIMENSIONS record (rows
as a 32-bit count: one record can ask for 640 GB, and a first row past the last wraps around to
four billion rows) and then by the positions of its cells (a 16-bit row and column each: one cell
at row 65,535, column 16,383 asks for a billion cells). It does so for every sheet when the
workbook is opened, and the process aborts when an allocation fails. Here both are read from each
sheet's records, so the limits are checked before calamine allocates anything.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pyramid_jobs import ProcessingError

# records that place one cell (row, column first), BIFF2 to BIFF8: BLANK, INTEGER, NUMBER, LABEL,
# BOOLERR, FORMULA (three versions), NUMBER, LABEL, BOOLERR, BLANK, RK, RSTRING, LABELSST
ONE_CELL = frozenset({0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0206, 0x0406, 0x0203, 0x0204, 0x0205,
                      0x0201, 0x027E, 0x00D6, 0x00FD})
# MULRK and MULBLANK: a row, its first column, ..., its last column (the record's last two bytes)
MANY_CELLS = frozenset({0x00BD, 0x00BE})
BOF = frozenset({0x0009, 0x0209, 0x0409, 0x0809})
EOF = 0x000A
BOUNDSHEET = 0x0085
DIMENSIONS = frozenset({0x0000, 0x0200})  # BIFF2, BIFF3-8
FILEPASS = 0x002F  # the records after it are encrypted: their bytes are no positions
SST, CONTINUE, LABELSST = 0x00FC, 0x003C, 0x00FD
HEAD = struct.Struct("<HH")
POSITION = struct.Struct("<HH")


def _records(stream: bytes, pos: int = 0) -> Iterator[tuple[int, int, int]]:
    """(kind, where its body starts, its size) of each BIFF record from ``pos`` on."""
    end = len(stream)
    while pos + 4 <= end:
        kind, size = HEAD.unpack_from(stream, pos)
        yield kind, pos + 4, size
        pos += 4 + size


@dataclass
class SheetExtent:
    name: str
    rows: int = 0  # 1-based: the last row holding a cell record (0: none)
    columns: int = 0
    shared: list = field(default_factory=list)  # the shared-string index of each LABELSST record
    inverted: bool = False  # a DIMENSIONS record whose first row or column lies past its last


def sheet_extents(stream: bytes) -> list[SheetExtent]:
    """The extent of every sheet of a Workbook (or Book) stream. Each is measured from where its
    BOUNDSHEET record says it starts, as calamine reads it (not from where a walk of the stream
    would meet it: a sheet may start inside another record's bytes), to its own EOF, charts inside
    it included; a stream with no BOUNDSHEET (BIFF2-4, one sheet) is measured whole."""
    names = _sheet_names(stream)
    if not names:
        return [_measure(stream, 0, "sheet 1", whole=True)]
    return [_measure(stream, offset, name) for offset, name in names.items()]


def _measure(stream: bytes, pos: int, name: str, whole: bool = False) -> SheetExtent:
    sheet = SheetExtent(name)
    depth, end = 0, len(stream)
    for kind, body, size in _records(stream, pos):
        if kind in BOF:
            depth += 1
        elif kind == EOF:
            depth -= 1
            if depth <= 0 and not whole:
                break
        elif body + size > end:
            break
        elif kind in DIMENSIONS and size >= 10:
            first_row, last_row, first_col, last_col = struct.unpack_from(
                "<IIHH" if size >= 14 else "<HHHH", stream, body)
            sheet.inverted = sheet.inverted or first_row > last_row or first_col > last_col
            sheet.rows, sheet.columns = max(sheet.rows, last_row), max(sheet.columns, last_col)
        elif kind in ONE_CELL and size >= 4:
            row, col = POSITION.unpack_from(stream, body)
            _grow(sheet, row, col)
            if kind == LABELSST and size >= 10:
                sheet.shared.append(struct.unpack_from("<I", stream, body + 6)[0])
        elif kind in MANY_CELLS and size >= 6:
            row, _ = POSITION.unpack_from(stream, body)
            (last,) = struct.unpack_from("<H", stream, body + size - 2)
            _grow(sheet, row, last)
    return sheet


def is_encrypted(stream: bytes) -> bool:
    """Whether the workbook's own substream holds a FILEPASS record (a password protects it)."""
    for kind, _, _ in _records(stream):
        if kind in (FILEPASS, EOF):
            return kind == FILEPASS
    return False


def _grow(sheet: SheetExtent, row: int, col: int) -> None:
    sheet.rows = max(sheet.rows, row + 1)
    sheet.columns = max(sheet.columns, col + 1)


def _sheet_names(stream: bytes) -> dict[int, str]:
    """Stream offset of each sheet's BOF -> its name, from the BOUNDSHEET records (BIFF5 and 8)."""
    names: dict[int, str] = {}
    for kind, body, size in _records(stream):
        if kind == BOUNDSHEET and size >= 8:
            (offset,) = struct.unpack_from("<I", stream, body)
            count = stream[body + 6]
            flags = stream[body + 7] if size > 8 else 0
            raw = stream[body + 8:body + 8 + count * (2 if flags & 1 else 1)]
            names[offset] = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
    return names


def shared_string_lengths(stream: bytes) -> list[int]:
    """The length in characters of each string of the workbook's SST record and its CONTINUE
    records (a string's characters may run on into the next CONTINUE, which then starts with a
    byte saying whether they are one or two bytes wide)."""
    parts: list[bytes] = []
    for kind, body, size in _records(stream):
        if kind == SST:
            parts = [stream[body + 8:body + size]]  # after the total and unique counts
        elif kind == CONTINUE and parts:
            parts.append(stream[body:body + size])
        elif parts or kind == EOF:
            break
    return _Strings(parts).lengths() if parts else []


class _Strings:
    """Reads string headers across the SST's parts; only the lengths are kept."""

    def __init__(self, parts: list[bytes]):
        self.parts, self.part, self.pos = parts, 0, 0

    def _take(self, n: int) -> bytes:
        out = b""
        while len(out) < n and self.part < len(self.parts):
            data = self.parts[self.part]
            piece = data[self.pos:self.pos + n - len(out)]
            out += piece
            self.pos += len(piece)
            if self.pos >= len(data):
                self.part, self.pos = self.part + 1, 0
        if len(out) < n:
            raise EOFError
        return out

    def _chars(self, count: int, wide: bool) -> None:
        while count > 0:
            if self.part >= len(self.parts):
                raise EOFError
            room = (len(self.parts[self.part]) - self.pos) // (2 if wide else 1)
            step = min(count, room)
            self.pos += step * (2 if wide else 1)
            count -= step
            if count > 0:  # the characters go on in the next part, after a byte giving their width
                self.part, self.pos = self.part + 1, 0
                wide = bool(self._take(1)[0] & 1)

    def lengths(self) -> list[int]:
        out: list[int] = []
        try:
            while self.part < len(self.parts):
                count, flags = struct.unpack("<HB", self._take(3))
                runs = struct.unpack("<H", self._take(2))[0] if flags & 0x08 else 0
                extra = struct.unpack("<I", self._take(4))[0] if flags & 0x04 else 0
                self._chars(count, bool(flags & 0x01))
                self._take(4 * runs + extra)
                out.append(count)
        except EOFError:
            pass
        return out


def check_extents(stream: bytes, limits: Mapping[str, int]) -> None:
    """Refuse (``too_large``) a workbook one of whose sheets spans more than the limits allow, or
    whose shared strings expand past ``max_extracted_chars`` (calamine copies a shared string into
    every cell that points at it)."""
    sheets = sheet_extents(stream)
    refs = [i for sheet in sheets for i in sheet.shared]
    max_chars = limits.get("max_extracted_chars")
    if refs and max_chars:
        lengths = shared_string_lengths(stream)
        chars = sum(lengths[i] for i in refs if i < len(lengths))
        if chars > max_chars:
            raise ProcessingError("too_large", f"The workbook's text expands to more than {max_chars:,} characters "
                                               "(its shared strings are repeated that often); the limit is "
                                               f"{max_chars:,}.")
    for sheet in sheets:
        if sheet.inverted:
            raise ProcessingError("corrupt_file", f"The sheet {sheet.name!r} declares its first row or column past its "
                                                  "last: the workbook looks damaged.")
        check_grid(sheet.name, sheet.rows, sheet.columns, limits)


def check_grid(name: str, rows: int, columns: int, limits: Mapping[str, int]) -> None:
    """Refuse (``too_large``) a sheet whose grid passes ``max_rows``, ``max_columns`` or ``max_cells``."""
    if rows > limits["max_rows"] or columns > limits["max_columns"] or rows * columns > limits["max_cells"]:
        raise ProcessingError("too_large", f"The sheet {name!r} spans {rows:,} rows by {columns:,} columns; the "
                                           f"limits are {limits['max_rows']:,} rows, {limits['max_columns']:,} "
                                           f"columns and {limits['max_cells']:,} cells.")
