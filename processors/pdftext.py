"""Text hygiene for PDF page text, whatever engine read it.

Extractors pass on what the fonts say: ligature glyphs (U+FB00-FB06) as single characters,
TeX's math minus (code 0 in cmsy, with no ToUnicode entry) as U+0000, PDFium's line-end hyphen
marker as U+0002 or U+FFFE, and words split by a line-end hyphen. A search or a word count must
see ``first``, ``−`` and ``extraction``, so page text goes through :func:`clean` before it is
written anywhere.
"""
from __future__ import annotations

import re

LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "st", 0xFB06: "st"}
MINUS = "\u2212"
# C0 controls other than tab and newline; U+0000 is TeX's minus, U+0002 PDFium's hyphen marker.
_CONTROLS = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_TABLE = {**_CONTROLS, **LIGATURES, 0x00: MINUS, 0x02: "-", 0xFFFE: "-", 0x7F: None}
# A word broken at a line end: letters, a hyphen (ASCII, U+2010 or soft hyphen), the line break,
# and a lower-case continuation. "Jean-\nPaul" and "COVID-\n19" stay as they are.
_HYPHENATED = re.compile(r"(?<=[^\W\d_])[-\u2010\u00ad][ \t]*\n[ \t]*([^\W\d_]\S*)[ \t]?")
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def clean(text: str, *, join_hyphens: bool = True) -> str:
    """``text`` with ligatures spelt out, TeX minus as U+2212, no C0 controls but tab and newline,
    CR/LF as LF, and (``join_hyphens``) words hyphenated at a line end joined on the first line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_TABLE)
    if join_hyphens and "\n" in text:
        text = _HYPHENATED.sub(_join, text)
    else:
        text = text.replace("\u00ad\n", "-\n")
    return text.replace("\u00ad", "")


def _join(match: re.Match) -> str:
    rest = match.group(1)
    return rest + "\n" if rest[0].islower() else match.group(0)


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds Hebrew or Arabic letters (PDFium gives those in visual order)."""
    return _RTL.search(text) is not None


def usable_characters(text: str) -> int:
    """Characters a reader can use: not space, not U+FFFD, not private-use (unmapped glyphs)."""
    return sum(1 for c in text if not c.isspace() and c != "\ufffd" and not "\ue000" <= c <= "\uf8ff")
