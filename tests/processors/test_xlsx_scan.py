"""The xlsx scan against calamine itself: for sheets written every way calamine accepts, the extent
the scan measures is never smaller than the grid calamine builds (a smaller one would let calamine
allocate past the limits and abort the process)."""
from __future__ import annotations

import random
import zipfile

import pytest
from python_calamine import CalamineWorkbook

from processors.sheets import column_letters
from processors.xlsx_scan import scan
from tests.processors.test_xlsx import MAIN_NS, hand_workbook

LIMITS = {"max_rows": 10**8, "max_columns": 100_000, "max_cells": 10**10, "max_extracted_chars": 10**9}


class Writer:
    """Random sheet XML: quotes, spacing, case, leading zeros, prefixes, repeated and missing
    references, rows and cells out of order, empty and styled cells."""

    def __init__(self, seed: int, shared: bool = False):
        self.rnd = random.Random(seed)
        self.shared = shared  # some cells are shared strings (index 0-4)

    def space(self) -> str:
        return self.rnd.choice([" ", "  ", "\t", "\n", " \r\n "])

    def attr(self, name: str, value: object) -> str:
        q = self.rnd.choice(['"', "'"])
        return f"{name}{self.rnd.choice(['', ' '])}={self.rnd.choice(['', ' '])}{q}{value}{q}"

    def cell(self, row: int, col: int, prefix: str) -> str:
        rnd = self.rnd
        ref = column_letters(col) + "0" * rnd.choice([0, 0, 0, 2]) + str(row)
        ref = ref.lower() if rnd.random() < 0.2 else ref
        attrs = [self.attr("r", ref)] if rnd.random() < 0.9 else []
        if rnd.random() < 0.3:
            attrs.append(self.attr("s", "0"))
        kind = "s" if self.shared and rnd.random() < 0.5 else "n"
        if kind == "s" or rnd.random() < 0.2:
            attrs.insert(rnd.randint(0, len(attrs)), self.attr("t", kind))
        if rnd.random() < 0.05:
            attrs.append(self.attr("r", column_letters(rnd.randint(1, 60)) + str(rnd.randint(1, 900))))
        body = "".join((self.space() if i == 0 or rnd.random() < 0.9 else "") + a for i, a in enumerate(attrs))
        if rnd.random() < 0.15:
            return f"<{prefix}c{body}/>"
        value = str(rnd.randint(0, 4)) if kind == "s" else "1"
        formula = f"<{prefix}f>A1</{prefix}f>" if rnd.random() < 0.1 else ""
        return f"<{prefix}c{body}>{formula}<{prefix}v>{value}</{prefix}v></{prefix}c>"

    def sheet(self, first_row: int = 0) -> str:
        rnd = self.rnd
        prefix = "x:" if rnd.random() < 0.3 else ""
        rows = sorted(rnd.sample(range(first_row + 1, first_row + 600), rnd.randint(1, 30)))
        if rnd.random() < 0.2:
            rnd.shuffle(rows)
        parts = [f'<{prefix}row r="{r}"><{prefix}c r="A{r}"><{prefix}v>1</{prefix}v></{prefix}c></{prefix}row>'
                 for r in range(1, first_row + 1)]  # a long ordinary start: several blocks
        for r in rows:
            cols = sorted(rnd.sample(range(1, 80), rnd.randint(1, 6)))
            if rnd.random() < 0.2:
                rnd.shuffle(cols)
            number = self.attr("r", r) if rnd.random() < 0.9 else ""
            cells = "".join(self.cell(r, c, rnd.choice([prefix, prefix, prefix, "y:", ""])) for c in cols)
            parts.append(f"<{prefix}row {number}>{cells}</{prefix}row>")
        return (f'<{prefix}sheetData xmlns:x="{MAIN_NS}" xmlns:y="{MAIN_NS}">' + "".join(parts)
                + f"</{prefix}sheetData>")


def _compare(path) -> None:
    try:
        end = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").end
    except Exception:  # calamine refuses it: nothing to allocate
        return
    if end is None:
        return
    with zipfile.ZipFile(path) as zf:
        info = scan(zf, LIMITS).sheets[0]
    assert max(info.rows, info.row_bound) >= end[0] + 1 and info.columns >= end[1] + 1, \
        (end, info.rows, info.row_bound, info.columns, path.read_bytes()[:3000])


@pytest.mark.parametrize("seed", range(8))
def test_scan_is_never_smaller_than_calamines_grid(tmp_path, seed):
    writer = Writer(seed)
    for i in range(40):
        _compare(hand_workbook(tmp_path / f"w{i}.xlsx", writer.sheet()))


SHARED = ["a" * 10, "b" * 20, "c" * 30, "d" * 40, "e" * 50]


@pytest.mark.parametrize("seed", range(4))
def test_expanded_text_is_never_less_than_calamines(tmp_path, seed):
    """The characters shared-string references expand to, as the scan counts them, are at least
    what calamine puts in the cells: a limit just below calamine's total is refused."""
    from pyramid_jobs import ProcessingError

    writer = Writer(seed, shared=True)
    for i in range(30):
        path = hand_workbook(tmp_path / f"w{i}.xlsx", writer.sheet(), shared=SHARED)
        try:
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python()
        except Exception:
            continue
        total = sum(len(v) for row in rows for v in row if isinstance(v, str))
        if not total:
            continue
        with zipfile.ZipFile(path) as zf, pytest.raises(ProcessingError):
            scan(zf, {**LIMITS, "max_extracted_chars": total - 1})


def test_scan_over_several_blocks(tmp_path):
    """Unusual rows after a megabyte of ordinary ones: the walk that takes over counts rows on."""
    writer = Writer(99)
    for i in range(6):
        _compare(hand_workbook(tmp_path / f"w{i}.xlsx", writer.sheet(first_row=25_000)))


class OdsWriter(Writer):
    """Random OpenDocument tables: repeats in either quote and spacing, covered cells, empty and
    valued cells, and tables inside cells (calamine skips them; the scan must not lose count)."""

    def cell(self, depth: int = 0) -> str:
        rnd = self.rnd
        attrs = []
        if rnd.random() < 0.3:
            attrs.append(self.attr("table:number-columns-repeated", rnd.randint(1, 40)))
        if rnd.random() < 0.6:
            attrs += [self.attr("office:value-type", "float"), self.attr("office:value", "1")]
        tag = rnd.choice(["table:table-cell"] * 5 + ["table:covered-table-cell"])
        body = "".join(self.space() + a for a in attrs)
        kind = rnd.random()
        if kind < 0.4 or depth:
            return f"<{tag}{body}/>"
        if kind < 0.9:
            return f"<{tag}{body}><text:p>1</text:p></{tag}>"
        return f"<{tag}{body}><table:table table:name='inner'>{self.row(depth + 1)}</table:table></{tag}>"

    def row(self, depth: int = 0) -> str:
        repeat = self.attr("table:number-rows-repeated", self.rnd.randint(1, 30)) if self.rnd.random() < 0.3 else ""
        return f"<table:table-row {repeat}>" + "".join(self.cell(depth) for _ in range(self.rnd.randint(1, 6))) \
            + "</table:table-row>"


@pytest.mark.parametrize("seed", range(4))
def test_ods_scan_refuses_whatever_calamine_would_fill_past_the_limits(tmp_path, seed):
    from processors.xlsx_scan import scan_ods
    from pyramid_jobs import ProcessingError
    from tests.processors.test_xlsx import _ods

    writer = OdsWriter(seed)
    for i in range(40):
        path = _ods(tmp_path / f"t{i}.ods", "".join(writer.row() for _ in range(writer.rnd.randint(1, 20))))
        end = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").end
        if end is None:
            continue
        for limits in ({"max_rows": end[0], "max_columns": 10**6, "max_cells": 10**12},
                       {"max_rows": 10**6, "max_columns": end[1], "max_cells": 10**12}):
            with zipfile.ZipFile(path) as zf, pytest.raises(ProcessingError):
                scan_ods(zf, limits)
