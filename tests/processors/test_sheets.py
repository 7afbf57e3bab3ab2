"""The spreadsheet CSV against a reference written cell by cell from calamine's own grid: batches,
blank rows (kept between data, dropped at the end), columns left of the data, error cells, quoting
and the one-join fast path must all give the same bytes."""
from __future__ import annotations

import csv
import io
import random

import pytest
from python_calamine import CalamineWorkbook

from processors.sheets import csv_row
from processors.xlsx import XlsxProcessor
from pyramid_jobs.testing import run_processor
from tests.processors.test_xlsx import hand_workbook

TEXTS = ["plain", "a,b", 'say "hi"', "two\nlines", "=SUM(A1)", "中文", "+1", "x"]
PLAIN = ["plain", "=SUM(A1)", "中文", "+1", "x", "two words"]  # nothing to quote: the one-join path


def _sheet(rnd: random.Random, rows: int, texts: list[str]) -> tuple[str, dict[tuple[int, int], str]]:
    """Sheet XML and the error cells it holds ((row, col) 0-based -> text)."""
    from processors.sheets import column_letters

    top, left = rnd.choice([0, 0, 2]), rnd.choice([0, 0, 1, 3])
    width = rnd.randint(1, 6)
    out, errors = [], {}
    blank_run = 0
    for r in range(top, top + rows):
        if 9_990 <= r % 10_000 or r % 10_000 < 5:  # blank across a batch's edge (batches of 10,000)
            continue
        if blank_run or rnd.random() < 0.01:  # runs of blank rows
            blank_run = blank_run - 1 if blank_run else rnd.randint(1, 40)
            continue
        cells = []
        for c in range(left, left + width):
            ref = f"{column_letters(c + 1)}{r + 1}"
            kind = rnd.random()
            if kind < 0.15:
                continue
            if kind < 0.35:
                text = rnd.choice(texts)
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_xml(text)}</t></is></c>')
            elif kind < 0.6:
                cells.append(f'<c r="{ref}"><v>{rnd.randint(-5, 10**6)}</v></c>')
            elif kind < 0.85:
                cells.append(f'<c r="{ref}"><v>{round(rnd.uniform(-100, 100), 2)}</v></c>')
            elif kind < 0.95:
                cells.append(f'<c r="{ref}" t="b"><v>{rnd.randint(0, 1)}</v></c>')
            else:
                errors[(r, c)] = "#DIV/0!"
                cells.append(f'<c r="{ref}" t="e"><v>#DIV/0!</v></c>')
        if cells:
            out.append(f'<row r="{r + 1}">{"".join(cells)}</row>')
    return "<sheetData>" + "".join(out) + "</sheetData>", errors


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _reference(path, errors: dict[tuple[int, int], str]) -> bytes:
    """What the CSV must hold: calamine's grid from A1, cell by cell, trailing blank rows dropped."""
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S").to_python(skip_empty_area=False)
    while grid and all(v == "" for v in grid[-1]) and not any(r == len(grid) - 1 for r, _ in errors):
        grid.pop()
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    for r, row in enumerate(grid):
        if all(v == "" for v in row) and not any(er == r for er, _ in errors):
            writer.writerow([])
            continue
        line = csv_row(list(row))
        for (er, ec), text in errors.items():
            if er == r and ec < len(line):
                line[ec] = text
        writer.writerow(line)
    return buf.getvalue().encode()


@pytest.mark.parametrize("seed,rows,texts", [(1, 30, TEXTS), (2, 200, PLAIN), (3, 5, TEXTS), (4, 23_000, TEXTS),
                                             (5, 21_000, PLAIN), (6, 1, PLAIN)])
def test_csv_matches_a_cell_by_cell_reference(tmp_path, seed, rows, texts):
    rnd = random.Random(seed)
    xml, errors = _sheet(rnd, rows, texts)
    path = hand_workbook(tmp_path / "s.xlsx", xml)
    run = run_processor(XlsxProcessor(), path)
    got = run.artifacts[run.result["sheets"][0]["csv"]].read_bytes()
    assert got == _reference(path, errors)
