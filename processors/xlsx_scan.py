"""One streamed pass over an xlsx zip, before calamine sees it: what calamine does not report, and
what must be known before it is safe to let it load a sheet.

calamine builds each sheet as one dense grid sized by the cells that hold a value, and copies a
shared string into every cell that points at it. So a single cell at ``XFD1048576`` makes it
allocate half a terabyte (the process aborts), and a 1 MB shared string referenced by 100,000
cells is 100 GB. This pass measures the real extent of each sheet (the declared ``<dimension>``
is ignored: producers get it wrong) and the characters shared-string references expand to, so
the limits are checked on what is really there before anything is allocated.

It also reads the workbook part (sheet kinds and visibility, defined names, the 1904 date
system; transitional and strict namespaces alike), counts formulas and merged ranges, and finds
error cells (calamine gives ``#DIV/0!`` as an empty string). Every member is read through
``zipfile``, which checks CRCs and declared sizes, so a damaged zip fails here as
``corrupt_file``. Scanning is byte counting in C for the common layout (``<c r="A1" ...>``);
cells without a reference or with other attribute orders take a slower exact path.
"""
from __future__ import annotations

import functools
import posixpath
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyramid_jobs import ProcessingError

from .safety import zip_errors

if TYPE_CHECKING:
    import numpy as np

BLOCK = 1 << 20
CARRY_LIMIT = 64 << 20
MAX_NAMES = 500
DEFAULT_MAX_CHARS = 256 * 1024 * 1024
KINDS = {"worksheet": "worksheet", "chartsheet": "chart", "dialogsheet": "dialog", "xlMacrosheet": "macro",
         "xlIntlMacrosheet": "macro"}
ROOT = re.compile(rb"<(\w+:)?(?:worksheet|chartsheet|dialogsheet|macrosheet)\b")
# a cell reference as calamine reads it: letters of either case, any number of digits (leading zeros too)
LETTERS = re.compile(rb"([A-Z]+)(\d+)")
DIGITS = re.compile(rb"\d+")
UNPREFIXED_CELL = re.compile(rb"<c[\s/>]")
ERROR_CELL = re.compile(rb"""<((?:[\w.-]+:)?)c\b([^>]*?)\st\s*=\s*["']e["'][^>]*>(.*?)</\1c>""", re.S)
ERROR_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</")
# an attribute r after a space or, as calamine also accepts, right after the previous value's quote
CELL_R = re.compile(rb"""(?<=[\s"'])r\s*=\s*(["'])([A-Za-z]{1,7})(\d{1,18})\1""")
ROW_R = re.compile(rb"""(?<=[\s"'])r\s*=\s*(["'])(\d{1,18})\1""")
# a shared-string cell's index, whatever comes between its tag and its <v> (a formula, say)
SHARED_REF = re.compile(rb"""(?<=[\s"'])t\s*=\s*["']s["'][^>]*>(?:(?!</?(?:[\w.-]+:)?c[\s/>]).)*?"""
                        rb"""<(?:[\w.-]+:)?v>\s*(\d+)\s*<""", re.S)
# the exact path: every row and cell tag, whatever its prefix (calamine matches local names), any
# attribute order and quoting, references optional
TOKENS = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*?)(/?)>")
GALLOP = 16  # wider rows found in one block before it is walked row by row


@dataclass
class SheetInfo:
    """A sheet as the workbook lists it, and what the scan found in its part."""

    name: str
    state: str = "visible"
    kind: str = "worksheet"
    part: str | None = None
    formulas: int = 0
    merges: int = 0
    rows: int = 0  # 1-based index of the last row holding a value (0: none)
    row_bound: int = 0  # no value lies below this row (rows, or a little more when not walked cell by cell)
    columns: int = 0  # same for columns
    cells: int = 0  # cell tags seen (with or without a value)
    declared: str | None = None
    errors: dict[int, dict[int, str]] = field(default_factory=dict)  # row -> col -> "#DIV/0!" (0-based)


@dataclass
class WorkbookInfo:
    sheets: list[SheetInfo]
    defined_names: list[dict]
    date1904: bool
    strict: bool
    macros: bool
    shared_chars: int = 0


def col_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(elem, name: str) -> str | None:
    """An attribute by local name, whatever its namespace (strict and transitional differ)."""
    for key, value in elem.attrib.items():
        if _local(key) == name:
            return value
    return None


def _rels(zf: zipfile.ZipFile, path: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type's last part, member path) for the part at ``path``."""
    from defusedxml.ElementTree import iterparse

    base = posixpath.dirname(path)
    rels_path = posixpath.join(base, "_rels", posixpath.basename(path) + ".rels")
    out: dict[str, tuple[str, str]] = {}
    if rels_path not in zf.NameToInfo:
        return out
    with zf.open(rels_path) as f:
        for _, elem in iterparse(f):
            if _local(elem.tag) == "Relationship":
                target = elem.get("Target") or ""
                target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(base, target))
                out[elem.get("Id") or ""] = ((elem.get("Type") or "").rsplit("/", 1)[-1], target)
            elem.clear()
    return out


def read_workbook(zf: zipfile.ZipFile) -> WorkbookInfo:
    """Sheets (name, visibility, kind, part), defined names and the date system from the workbook part."""
    from defusedxml.ElementTree import iterparse

    rels = _rels(zf, "xl/workbook.xml")
    sheets: list[SheetInfo] = []
    raw_names: list[tuple[str, str | None, str]] = []
    date1904 = strict = False
    with zf.open("xl/workbook.xml") as f:
        for _, elem in iterparse(f):
            tag = _local(elem.tag)
            if tag == "sheet":
                kind, part = rels.get(_attr(elem, "id") or "", ("worksheet", None))
                sheets.append(SheetInfo(name=elem.get("name") or f"Sheet{len(sheets) + 1}",
                                        state=elem.get("state") or "visible", kind=KINDS.get(kind, kind), part=part))
            elif tag == "definedName" and len(raw_names) < MAX_NAMES:
                raw_names.append((elem.get("name") or "", elem.get("localSheetId"), (elem.text or "")[:500]))
            elif tag == "workbookPr":
                date1904 = (elem.get("date1904") or "").lower() in ("1", "true")
            elif tag == "workbook":
                strict = elem.tag.startswith("{http://purl.oclc.org/ooxml/")
            if tag != "workbook":
                elem.clear()
    names = []
    for name, local, refers in raw_names:
        scope = sheets[int(local)].name if local and local.isdigit() and int(local) < len(sheets) else None
        names.append({"name": name, "refers_to": refers, "scope": scope})
    return WorkbookInfo(sheets=sheets, defined_names=names, date1904=date1904, strict=strict,
                        macros="xl/vbaProject.bin" in zf.NameToInfo)


def _blocks(zf: zipfile.ZipFile, member: str, boundary: bytes):
    """The member's bytes in blocks that end just after ``boundary`` (rows are never cut in two)."""
    carry = b""
    with zf.open(member) as f:
        while block := f.read(BLOCK):
            data = carry + block
            cut = data.rfind(boundary)
            if cut < 0 and len(data) < CARRY_LIMIT:
                carry = data
                continue
            cut = cut + len(boundary) if cut >= 0 else data.rfind(b"<")
            cut = cut if cut > 0 else len(data)
            carry = data[cut:]
            yield data[:cut]
    if carry:
        yield carry


class _SheetScanner:
    """Accumulates one sheet's counts block by block (see the module docstring)."""

    def __init__(self, info: SheetInfo, prefix: bytes):
        self.info = info
        p = prefix
        self.p = p
        self.row_end = b"</" + p + b"row>"
        self.cell_ref = b"<" + p + b'c r="'
        self.formula_any = b"<" + p + b"f"
        self.formula = (b"<" + p + b"f>", b"<" + p + b"f ")
        self.merge = b"<" + p + b"mergeCell "
        self.row = 0  # exact path: the current row and column
        self.col = 0
        self.exact = False  # walk every tag (set for a second pass over a sheet whose cells are out of order)
        self.walked = False  # some block was walked tag by tag
        self.suspect = False

    def feed(self, data: bytes) -> None:
        """Three C-speed passes and one search over the block; Python loops only where it is unusual."""
        info = self.info
        if data.count(self.formula_any):
            info.formulas += sum(data.count(t) for t in self.formula)
        if not data.endswith(b"row>"):  # merged ranges follow the rows: only the last block has them
            info.merges += data.count(self.merge)
        if b'"e"' in data or (b"'" in data and b"'e'" in data):
            self._errors(data)
        if self.exact or not self._fast(data):
            self._exact(data)  # a cell with no reference first, another prefix or quoting: every tag

    def _fast(self, data: bytes) -> bool:
        """The extent from references alone, when every cell is written ``<c r="A1"`` (False when
        one is not). The last cell holding a value gives the block's last row (rows come in order:
        a cell below it marks the sheet ``suspect``); wider rows are found by searching for cells
        past the width known so far."""
        info = self.info
        if b":" in data and data.count(b":c") != (data.count(self.cell_ref) if self.p else 0):
            return False  # cells under another prefix
        if self.p and b"<c" in data and UNPREFIXED_CELL.search(data):
            return False  # cells in the default namespace beside prefixed ones
        if _odd_row(self.p).search(data):
            return False  # a row tag without r="N" first, or with two: an exact walk counts rows as calamine does
        ref = self.cell_ref
        rows, columns = info.rows, info.columns
        k = len(data)
        while (k := data.rfind(ref, 0, k)) >= 0:
            gt = data.find(b">", k)
            if gt > 0 and data[gt - 1] != 47:  # not self-closing ("/"): it holds something
                m = LETTERS.match(data, k + len(ref))
                if m:
                    rows = max(rows, int(m.group(2)))
                    columns = max(columns, col_index(m.group(1)))
                break
        pos, gallop = 0, GALLOP
        while m := _unusual(self.p, columns, rows).search(data, pos):
            if m.group(1) is None and m.group(3) is None:
                return False  # not written <c r="A1"
            if m.group(3) is not None:
                self.suspect = True  # rows out of order: the sheet is walked again, every tag
                break
            columns, rows, pos = col_index(m.group(1)), max(rows, int(m.group(2))), m.start() + 1
            gallop -= 1
            if not gallop:  # ragged rows: each row's last cell
                rows, columns = self._per_row(data, rows, columns)
                break
        info.rows, info.columns = rows, columns
        info.cells += data.count(ref)
        last_row = data.rfind(b"<" + self.p + b'row r="')
        m = DIGITS.match(data, last_row + len(self.p) + 8) if last_row >= 0 else None
        self.row, self.col = (int(m.group()) if m else rows), 0  # where an exact walk would go on from
        return True

    def _per_row(self, data: bytes, rows: int, columns: int) -> tuple[int, int]:
        pos = 0
        ref, end_tag = self.cell_ref, self.row_end
        while (end := data.find(end_tag, pos)) >= 0:
            k = data.rfind(ref, pos, end)
            while k >= 0:
                gt = data.find(b">", k, end)
                if gt > 0 and data[gt - 1] != 47:
                    m = LETTERS.match(data, k + len(ref))
                    if m:
                        rows = max(rows, int(m.group(2)))
                        columns = max(columns, col_index(m.group(1)))
                    break
                k = data.rfind(ref, pos, k)
            pos = end + len(end_tag)
        return rows, columns

    def _exact(self, data: bytes) -> None:
        """Any attribute order, quoting and prefix, implicit positions: each row and cell tag in turn
        (slow, exact). As calamine does, a row without ``r`` follows the previous row tag, and a
        cell without one follows the previous cell in the row of its row tag."""
        info = self.info
        self.walked = True
        for m in TOKENS.finditer(data):
            kind, attrs = m.group(1), m.group(2)
            if kind == b"row":
                numbers = [int(r[1]) for r in ROW_R.findall(attrs)]
                self.row = max(numbers) if numbers else self.row + 1  # repeated: the farthest counts
                self.col = 0
                continue
            info.cells += 1
            refs = CELL_R.findall(attrs)
            if refs:  # calamine takes the last of repeated r attributes; the extent counts every one
                self.col = col_index(refs[-1][1])
                row = max(int(r[2]) for r in refs)
                col = max(col_index(r[1]) for r in refs)
            else:
                self.col += 1
                row, col = self.row, self.col
            if not m.group(3):  # an open tag, not self-closing: the cell holds something
                info.rows = max(info.rows, row)
                info.columns = max(info.columns, col)

    def _errors(self, data: bytes) -> None:
        for m in ERROR_CELL.finditer(data):
            ref = CELL_R.search(m.group(2))
            value = ERROR_VALUE.search(m.group(3))
            if ref and value:
                row, col = int(ref.group(3)) - 1, col_index(ref.group(2)) - 1
                self.info.errors.setdefault(row, {})[col] = value.group(1).decode("utf-8", "replace")[:32]


@functools.lru_cache(maxsize=8)
def _odd_row(prefix: bytes) -> re.Pattern:
    """A row tag not written ``<row r="N"``, or with a second ``r`` (one search: rows are few)."""
    return re.compile(b"<" + re.escape(prefix) + rb'row(?:(?! r="\d+")[\s/>]'
                      + rb"""| r="\d+"[^>r]*+(?:r(?![\s=])[^>r]*+)*+r\s*=)""")


@functools.lru_cache(maxsize=256)
def _unusual(prefix: bytes, columns: int, rows: int) -> re.Pattern:
    """One search for what the fast path cannot take as it is: a cell not written ``<c r="A1"``
    or with a second ``r`` (calamine takes the last; no group), a cell holding a value past
    ``columns`` (groups 1 and 2: its letters and row), or one holding a value below
    ``row_bound(rows)`` (group 3). Possessive repeats and a digit-count look-ahead keep it near
    one test per cell."""
    digits = len(str(max(rows, 1)))
    return re.compile(b"<" + re.escape(prefix) + rb'c(?:(?=[\s/>])(?! r="[A-Z])'
                      + rb'| r="(' + _letters_above(columns) + rb')(\d+)"[^>]*(?<!/)>'
                      + rb'| r="[A-Z]++(?=\d{%d})(' % digits + _rows_above(max(rows, 1)) + rb')[^>]*(?<!/)>'
                      + rb"""| r="[^"]*+"[^>r]*+(?:r(?![\s=])[^>r]*+)*+r\s*=)""")


def _letters_above(col: int) -> bytes:
    """A regex for column letters after column ``col`` (1-based): longer, or as long and later."""
    from .sheets import column_letters

    letters = column_letters(max(col, 1))
    alts = [b"[A-Z]{%d,}" % (len(letters) + 1)]
    for i, ch in enumerate(letters):
        if ch != "Z":
            alts.append(letters[:i].encode() + b"[%s-Z]" % chr(ord(ch) + 1).encode()
                        + (b"[A-Z]{%d}" % (len(letters) - i - 1)))
    return b"|".join(alts) or b"(?!)"


def _rows_above(n: int) -> bytes:
    """A regex for row numbers past ``row_bound(n)``: more digits, or a larger first or second digit
    (two tests per cell, where an exact "above n" needs one per digit)."""
    digits = str(max(n, 1)).encode()
    k = len(digits)
    alts = [rb"\d{%d}" % (k + 1)]
    if digits[0] != 57:  # "9"
        alts.append(b"[%c-9]" % (digits[0] + 1) + rb"\d{%d}" % (k - 1) + b'"')
    if k > 1 and digits[1] != 57:
        alts.append(digits[:1] + b"[%c-9]" % (digits[1] + 1) + rb"\d{%d}" % (k - 2) + b'"')
    return b"|".join(alts)


def row_bound(n: int) -> int:
    """The largest row number ``_rows_above(n)`` lets through: ``n`` itself when it has one or two
    digits, else at most 10% above it (``100001`` -> ``109999``)."""
    digits = str(max(n, 1))
    if len(digits) <= 2:
        return max(n, 1)
    return (int(digits[:2]) + 1) * 10 ** (len(digits) - 2) - 1


def scan_sheet(zf: zipfile.ZipFile, info: SheetInfo) -> None:
    if not info.part or info.part not in zf.NameToInfo:
        return
    scanner = _scan_sheet(zf, info, exact=False)
    if scanner is not None and scanner.suspect:  # cells out of order: measure again, every tag
        info.formulas = info.merges = info.cells = info.rows = info.columns = 0
        info.errors.clear()
        scanner = _scan_sheet(zf, info, exact=True)
    exact = scanner is None or scanner.exact or scanner.walked
    info.row_bound = info.rows if exact else max(info.rows, row_bound(info.rows))


def _scan_sheet(zf: zipfile.ZipFile, info: SheetInfo, exact: bool) -> _SheetScanner | None:
    scanner: _SheetScanner | None = None
    for data in _blocks(zf, info.part, b"row>"):  # </row> and </x:row> alike
        if scanner is None:
            root = ROOT.search(data, 0, 4096)
            prefix = root.group(1) or b"" if root else b""
            scanner = _SheetScanner(info, prefix)
            scanner.exact = exact
            dim = re.search(rb'<(?:\w+:)?dimension\s+ref="([^"]{1,40})"', data[:8192])
            info.declared = dim.group(1).decode("ascii", "replace") if dim else None
        scanner.feed(data)
    return scanner


SHARED_STRINGS = "xl/sharedStrings.xml"


def _longest_shared_string(zf: zipfile.ZipFile) -> int:
    """An upper bound on the longest shared string: the most bytes from one ``<si`` to the next
    (a string under another prefix only merges two spans: a larger bound). Reading the part also
    checks its CRC."""
    if SHARED_STRINGS not in zf.NameToInfo:
        return 0
    longest = carry = 0
    for data in _blocks(zf, SHARED_STRINGS, b">"):
        spans = data.split(b"<si")
        if len(spans) == 1:
            carry += len(data)
            continue
        longest = max(longest, carry + len(spans[0]), max(map(len, spans[1:-1]), default=0))
        carry = len(spans[-1])
    return max(longest, carry)


def _shared_string_lengths(zf: zipfile.ZipFile) -> np.ndarray:
    """An upper bound on each shared string's length: the bytes from one ``<si`` to the next."""
    import numpy as np  # the worker's import, not the web process's (it lists processors only)

    if SHARED_STRINGS not in zf.NameToInfo:
        return np.zeros(0, dtype=np.int64)
    starts: list[int] = []
    offset = 0
    si = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")
    for data in _blocks(zf, SHARED_STRINGS, b">"):
        starts.extend(m.start() + offset for m in si.finditer(data))
        offset += len(data)
    bounds = np.array(starts + [offset], dtype=np.int64)
    return np.diff(bounds) if len(starts) else np.zeros(0, dtype=np.int64)


def _expanded_chars(zf: zipfile.ZipFile, sheets: list[SheetInfo], lengths: np.ndarray) -> int:
    import numpy as np

    """Characters the shared-string references of every sheet expand to (exact pass over the refs)."""
    total = 0
    for info in sheets:
        if not info.cells or not info.part:
            continue
        for data in _blocks(zf, info.part, b">"):
            idx = np.array([int(i) for i in SHARED_REF.findall(data)], dtype=np.int64)
            idx = idx[idx < len(lengths)]
            total += int(lengths[idx].sum())
    return total


def scan(zf: zipfile.ZipFile, limits: Mapping[str, int]) -> WorkbookInfo:
    """Read the workbook part and scan every sheet; enforce the size limits on what is really there.

    Raises ``ProcessingError`` ``too_large`` (limits) or ``corrupt_file`` (damaged zip or XML).
    """
    with zip_errors("workbook"):
        book = read_workbook(zf)
        for info in book.sheets:
            scan_sheet(zf, info)
            _check_extent(info, limits)
        max_chars = limits.get("max_extracted_chars", DEFAULT_MAX_CHARS)
        bound = sum(s.cells for s in book.sheets) * _longest_shared_string(zf)  # counted exactly only when too much
        book.shared_chars = bound if bound <= max_chars else _expanded_chars(zf, book.sheets,
                                                                             _shared_string_lengths(zf))
        if book.shared_chars > max_chars:
            raise ProcessingError("too_large", f"The workbook's text expands to more than {max_chars:,} characters "
                                               "(its shared strings are repeated that often); the limit is "
                                               f"{max_chars:,}.")
        _check_rest(zf, book)
    return book


def _check_extent(info: SheetInfo, limits: Mapping[str, int]) -> None:
    if info.rows > limits["max_rows"]:
        raise ProcessingError("too_large", f"The sheet {info.name!r} has cells in {info.rows:,} rows; the limit is "
                                           f"{limits['max_rows']:,}.")
    if info.columns > limits["max_columns"]:
        raise ProcessingError("too_large", f"The sheet {info.name!r} has cells in {info.columns:,} columns; the "
                                           f"limit is {limits['max_columns']:,}.")
    if max(info.rows, info.row_bound) * info.columns > limits["max_cells"]:
        raise ProcessingError("too_large", f"The sheet {info.name!r} spans {info.rows:,} rows by {info.columns:,} "
                                           f"columns, more than {limits['max_cells']:,} cells.")


def _check_rest(zf: zipfile.ZipFile, book: WorkbookInfo) -> None:
    """Read the members not read yet, so that a bad CRC or broken deflate data shows here."""
    seen = {s.part for s in book.sheets} | {"xl/workbook.xml", SHARED_STRINGS}
    for info in zf.infolist():
        if info.filename not in seen and not info.is_dir():
            with zf.open(info) as f:
                while f.read(BLOCK):
                    pass


ODS_TOKEN = re.compile(rb"<(?:\w+:)?(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*?)(/?)>"
                       rb"|</(?:\w+:)?(table-row|table)>")
# either quote, spaces around "=", any number of digits; a repeated attribute counts at its largest
ODS_REPEAT = re.compile(rb"""number-(?:rows|columns)-repeated\s*=\s*["']\s*(\d+)""")
ODS_VALUE = re.compile(rb"value-type\s*=")


def _repeats(attrs: bytes) -> int:
    return max((int(n) for n in ODS_REPEAT.findall(attrs)), default=1)


class _OdsExtent:
    """Rows and columns an OpenDocument table really fills, repeats counted (calamine expands them)."""

    def __init__(self, limits: Mapping[str, int]):
        self.limits = limits
        self.name = ""
        self.rows = self.columns = 0  # extent of the current table
        self.row = self.col = self.last = 0
        self.repeat = 1
        self.depth = 0  # tables open: a table inside a cell is skipped, as calamine skips it

    def feed(self, data: bytes) -> None:
        for m in ODS_TOKEN.finditer(data):
            tag, attrs, closed, end = m.groups()
            if tag == b"table" or end == b"table":
                self._table(tag, attrs, closed)
            elif self.depth > 1:
                continue
            elif end == b"table-row" or (tag == b"table-row" and closed):
                if tag:
                    self._row_start(attrs)
                self._row_end()
            elif tag == b"table-row":
                self._row_start(attrs)
            else:  # a cell: it counts when it holds something (a value type or content)
                n = _repeats(attrs)
                if not closed or ODS_VALUE.search(attrs):
                    self.last = self.col + n
                self.col += n

    def _table(self, tag: bytes | None, attrs: bytes, closed: bytes) -> None:
        """A sheet's table starts or ends; a table inside a cell is skipped, as calamine skips it."""
        if tag:  # <table:table ...>, or an empty <table:table/>
            if self.depth == 0:
                name = re.search(rb"""name\s*=\s*["']([^"']{0,100})""", attrs)
                self.name = name.group(1).decode("utf-8", "replace") if name else "?"
                self.rows = self.columns = self.row = 0
                if closed:
                    self._check()
            if not closed:
                self.depth += 1
            return
        self.depth = max(self.depth - 1, 0)
        if self.depth == 0:
            self._check()

    def _row_start(self, attrs: bytes) -> None:
        self.repeat = _repeats(attrs)
        self.col = self.last = 0

    def _row_end(self) -> None:
        if self.last:
            self.rows = self.row + self.repeat
            self.columns = max(self.columns, self.last)
            limits = self.limits
            if self.rows > limits["max_rows"] or self.columns > limits["max_columns"] or \
                    self.rows * self.columns > limits["max_cells"]:
                self._check()  # fail as soon as it is too much, not at the table's end
        self.row += self.repeat
        self.last = 0

    def _check(self) -> None:
        _check_extent(SheetInfo(name=self.name, rows=self.rows, columns=self.columns), self.limits)


def scan_ods(zf: zipfile.ZipFile, limits: Mapping[str, int]) -> None:
    """Check each table of an ods against the limits before calamine expands its repeated rows and
    cells (a 700-byte file can ask for a 6,000 x 16,384 grid)."""
    if "content.xml" not in zf.NameToInfo:
        return
    extent = _OdsExtent(limits)
    for data in _blocks(zf, "content.xml", b">"):
        extent.feed(data)
