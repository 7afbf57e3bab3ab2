"""Markdown writing shared by the processors' ``text.md`` artifacts: escaping, headings and tables.

Text from a document is escaped so that it reads as the document's words, never as markup
(a ``*`` in a cell stays a star); tables are GitHub-flavoured pipe tables.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
# A marker at a line start, found from the line end before it: a search for a literal ``\n`` skips
# ahead where a ``^`` in MULTILINE mode is tried at every position (4x slower on book pages).
_LINE_START = re.compile(r"\n(\s*)([#+\-=>]|\d+[.)](?=\s|$))", re.MULTILINE)


def escape(text: str) -> str:
    """``text`` with Markdown's inline markup characters escaped, and line-start markers neutralised
    (``1.`` becomes ``1\\.``: a backslash before a digit would be shown, not read)."""
    text = _SPECIAL.sub(r"\\\1", text)
    return _LINE_START.sub(_neutralise, "\n" + text)[1:]  # the first line starts after a line end too


def _neutralise(m: re.Match) -> str:
    """``# x`` -> ``\\# x``; ``1. x`` -> ``1\\. x`` (a backslash before a digit is shown, not read)."""
    marker = m.group(2)
    if marker[0].isdigit():
        return "\n" + m.group(1) + marker[:-1] + "\\" + marker[-1]
    return "\n" + m.group(1) + "\\" + marker


def _inline(text: str) -> str:
    """Escaping for text inside a line (a table cell): no line-start markers to neutralise."""
    return _SPECIAL.sub(r"\\\1", text)


def heading(text: str, level: int) -> str:
    level = min(max(level, 1), 6)
    return "#" * level + " " + escape(" ".join(text.split())) + "\n"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return _inline(" ".join(text.split()))


def table(rows: Iterable[Sequence[object]], header: Sequence[object] | None = None) -> str:
    """A pipe table; without ``header`` the first row is the header. Rows are padded to one width."""
    rows = [list(r) for r in rows]
    if header is None:
        if not rows:
            return ""
        header, rows = rows[0], rows[1:]
    width = max([len(header)] + [len(r) for r in rows]) or 1
    head = list(header) + [""] * (width - len(header))
    lines = ["| " + " | ".join(_cell(c) for c in head) + " |", "|" + "---|" * width]
    for r in rows:
        r = r + [""] * (width - len(r))
        lines.append("| " + " | ".join(_cell(c) for c in r) + " |")
    return "\n".join(lines) + "\n"
