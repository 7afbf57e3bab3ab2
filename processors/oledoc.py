"""Text from the Word binary formats ([MS-DOC] 2.4.1 "Retrieving Text"), bounds-checked.

The ``WordDocument`` stream starts with the File Information Block (FIB). Word 97-2003 keeps its
piece table (the Clx) in the ``0Table``/``1Table`` stream; each piece is cp1252 ("compressed")
or UTF-16LE. Word 6 and Word 95 keep everything in ``WordDocument``: a fast-saved file has a
piece table there too, a fully saved one a single run from ``fcMin``; their text is single-byte
in the code page of the document's language. The character positions hold several stories end
to end (main text, footnotes, headers and footers, comments, endnotes, text boxes), each read
and labelled. Every offset read from the file is checked: fuzzed and truncated files are common.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from pyramid_jobs import ProcessingError

WORD97_IDENT = 0xA5EC
WORD6_IDENT, WORD6_WIDE_IDENT = 0xA5DC, 0xA699  # the second: Far East Word 6/95, two bytes a character
OLD_IDENTS = (WORD6_IDENT, WORD6_WIDE_IDENT)
FIRST_WORD97_NFIB = 0xC1
FC_CLX = 33  # index of fcClx/lcbClx among the FIB's (fc, lcb) pairs
FC_PLCF_HDD = 11  # where each header and footer story starts
FC_PLCF_FTN_TXT, FC_PLCF_ATN_TXT, FC_PLCF_EDN_TXT = 3, 5, 47
OLD_CCP_AT, OLD_FCLCB_AT, OLD_FCLCB_COUNT = 0x34, 0x58, 40
MAX_PIECES = 1_000_000

# the stories in the order Word lays them out after the main text, with their FibRgLw97 index
STORIES = (("main", "Main text", 3), ("footnotes", "Footnotes", 4), ("headers", "Headers and footers", 5),
           ("macros", "Macros", 6), ("comments", "Comments", 7), ("endnotes", "Endnotes", 8),
           ("textboxes", "Text boxes", 9), ("header_textboxes", "Header text boxes", 10))
HEADER_KINDS = (("header", "even"), ("header", "odd"), ("footer", "even"), ("footer", "odd"),
                ("header", "first"), ("footer", "first"))

# Word's special characters: what each becomes in plain text
SPECIAL = {"\r": "\n", "\x07": "\t", "\x0b": "\n", "\x0c": "\n", "\x0e": "\n", "\x1e": "-", "\x1f": "",
           "\x01": "", "\x08": "", "\x02": "", "\x03": "", "\x04": "", "\x05": "", "\xa0": " "}
FIELD_BEGIN, FIELD_SEP, FIELD_END = "\x13", "\x14", "\x15"
FIELD_MARK = re.compile("[\x13-\x15]")
TRANSLATE = str.maketrans(SPECIAL)

# Windows code page of a Word 6/95 document by primary language id (the low 10 bits of its lid)
CODEPAGE_BY_LANGUAGE = {
    **dict.fromkeys((0x02, 0x19, 0x22, 0x23, 0x2F, 0x3F, 0x40, 0x44, 0x50), 1251),  # Cyrillic
    **dict.fromkeys((0x05, 0x0E, 0x15, 0x18, 0x1B, 0x1C, 0x24), 1250),  # Central European
    0x08: 1253, 0x1F: 1254, 0x0D: 1255, 0x01: 1256, 0x20: 1256, 0x29: 1256,
    **dict.fromkeys((0x25, 0x26, 0x27), 1257), 0x2A: 1258, 0x1E: 874, 0x11: 932, 0x12: 949,
}
CHINESE = {0x0404: 950, 0x0C04: 950, 0x1404: 950, 0x0804: 936, 0x1004: 936}
SERBIAN_CYRILLIC = (0x0C1A, 0x1C1A)


def corrupt(what: str) -> ProcessingError:
    return ProcessingError("corrupt_file", f"The Word document is damaged: {what}.")


@dataclass
class Fib:
    ident: int
    nfib: int
    lid: int
    complex: bool
    encrypted: bool
    obfuscated: bool
    table: str | None  # the table stream's name; None for Word 6/95 (all in WordDocument)
    fc_min: int = 0
    mac: bool = False
    ccp: list[int] = field(default_factory=lambda: [0] * 8)
    fclcb: list[tuple[int, int]] = field(default_factory=list)

    @property
    def old(self) -> bool:
        return self.table is None

    def fc_lcb(self, index: int) -> tuple[int, int]:
        return self.fclcb[index] if index < len(self.fclcb) else (0, 0)

    @property
    def codepage(self) -> str:
        """The single-byte text's encoding: cp1252 in Word 97 pieces, the language's in Word 6/95."""
        if not self.old:
            return "cp1252"
        if self.mac:
            return "mac_roman"
        if self.lid in SERBIAN_CYRILLIC:
            return "cp1251"
        cp = CHINESE.get(self.lid) or CODEPAGE_BY_LANGUAGE.get(self.lid & 0x3FF, 1252)
        return f"cp{cp}"


def _u16(data: bytes, off: int) -> int:
    if off < 0 or off + 2 > len(data):
        raise corrupt("a header field lies past the end of the file")
    return struct.unpack_from("<H", data, off)[0]


def _u32(data: bytes, off: int) -> int:
    if off < 0 or off + 4 > len(data):
        raise corrupt("a header field lies past the end of the file")
    return struct.unpack_from("<I", data, off)[0]


def read_fib(word: bytes) -> Fib:
    """The header fields this reader needs, from either FIB layout."""
    if len(word) < 32:
        raise corrupt("the WordDocument stream is too short")
    ident, nfib, lid = _u16(word, 0), _u16(word, 2), _u16(word, 6)
    flags = _u16(word, 0x0A)
    if ident != WORD97_IDENT and ident not in OLD_IDENTS:
        raise corrupt("its WordDocument stream does not start with a Word header")
    old = ident in OLD_IDENTS or nfib < FIRST_WORD97_NFIB
    fib = Fib(ident=ident, nfib=nfib, lid=lid, complex=bool(flags & 0x0004), encrypted=bool(flags & 0x0100),
              obfuscated=not old and bool(flags & 0x8000),
              table=None if old else ("1Table" if flags & 0x0200 else "0Table"))
    return _read_old_fib(word, fib) if old else _read_fib97(word, fib)


def _read_old_fib(word: bytes, fib: Fib) -> Fib:
    fib.fc_min = _u32(word, 0x18)
    fib.mac = _u16(word, 0x14) == 256  # chse: 0 Windows ANSI, 256 Macintosh
    fib.ccp = [_u32(word, OLD_CCP_AT + 4 * i) for i in range(8)]
    count = min(OLD_FCLCB_COUNT, max(0, (len(word) - OLD_FCLCB_AT) // 8))
    fib.fclcb = [struct.unpack_from("<II", word, OLD_FCLCB_AT + 8 * i) for i in range(count)]
    if count <= FC_CLX:
        raise corrupt("the header is cut short")
    return fib


def _read_fib97(word: bytes, fib: Fib) -> Fib:
    pos = 32
    csw = _u16(word, pos)
    pos += 2 + csw * 2
    cslw = _u16(word, pos)
    pos += 2
    if cslw <= STORIES[-1][2]:
        raise corrupt("the header has no text lengths")
    fib.ccp = [_u32(word, pos + 4 * index) for _, _, index in STORIES]
    pos += cslw * 4
    cb = _u16(word, pos)
    pos += 2
    if cb <= FC_CLX:
        raise corrupt("the header has no piece table")
    count = min(cb, max(0, (len(word) - pos) // 8))
    if count <= FC_CLX:
        raise corrupt("the header is cut short")
    fib.fclcb = [struct.unpack_from("<II", word, pos + 8 * i) for i in range(count)]
    return fib


@dataclass
class Piece:
    cp_start: int
    cp_end: int
    fc: int
    single_byte: bool


def pieces(clx: bytes, *, old: bool = False) -> list[Piece]:
    """The piece table: where each run of character positions lies in WordDocument."""
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: skip its grpprl
        if pos + 3 > len(clx):
            raise corrupt("the piece table is cut short")
        cb = struct.unpack_from("<h", clx, pos + 1)[0]
        if cb < 0:
            raise corrupt("the piece table has a negative length")
        pos += 3 + cb
    if pos >= len(clx) or clx[pos] != 0x02:
        raise corrupt("the piece table is missing")
    lcb = _u32(clx, pos + 1)
    plc = clx[pos + 5: pos + 5 + lcb]
    if len(plc) != lcb or lcb < 4 or (lcb - 4) % 12 or (lcb - 4) // 12 > MAX_PIECES:
        raise corrupt("the piece table has a bad size")
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for i in range(n):
        fc_raw = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * i + 2)[0]
        if cps[i + 1] < cps[i]:
            raise corrupt("the piece table's positions go backwards")
        if old:
            out.append(Piece(cps[i], cps[i + 1], fc_raw, True))
        elif fc_raw & 0x40000000:
            out.append(Piece(cps[i], cps[i + 1], (fc_raw & 0x3FFFFFFF) // 2, True))
        else:
            out.append(Piece(cps[i], cps[i + 1], fc_raw, False))
    return out


class DocText:
    """Characters by position: ``read(start, end)`` decodes the pieces covering that range."""

    def __init__(self, word: bytes, table: bytes | None, fib: Fib):
        self.word, self.fib = word, fib
        self.table = word if fib.old else table
        if self.table is None:
            raise corrupt(f"the {fib.table} stream is missing")
        self.encoding = fib.codepage
        if fib.old and not fib.complex:
            total = sum(fib.ccp)
            self.pieces = [Piece(0, total, fib.fc_min, True)]
        else:
            fc, lcb = fib.fc_lcb(FC_CLX)
            if lcb == 0 or fc + lcb > len(self.table):
                raise corrupt("the piece table lies outside the table stream")
            self.pieces = pieces(self.table[fc: fc + lcb], old=fib.old)
        if fib.ident == WORD6_WIDE_IDENT:
            for p in self.pieces:
                p.single_byte = False
        self.length = self.pieces[-1].cp_end if self.pieces else 0

    def read(self, start: int, end: int) -> str:
        parts: list[str] = []
        for p in self.pieces:
            if p.cp_end <= start:
                continue
            if p.cp_start >= end:
                break
            lo, hi = max(start, p.cp_start), min(end, p.cp_end)
            width = 1 if p.single_byte else 2
            at = p.fc + (lo - p.cp_start) * width
            size = (hi - lo) * width
            if at + size > len(self.word):
                raise corrupt("a piece of text lies past the end of the file")
            chunk = self.word[at: at + size]
            parts.append(chunk.decode(self.encoding, "replace") if p.single_byte
                         else chunk.decode("utf-16-le", "replace"))
        return "".join(parts)

    def plc(self, index: int) -> list[int]:
        """The character positions of a PLC in the table stream (each story's subdivisions)."""
        fc, lcb = self.fib.fc_lcb(index)
        if lcb < 8 or fc + lcb > len(self.table):
            return []
        n = min(lcb // 4, 100_000)
        return list(struct.unpack_from(f"<{n}I", self.table, fc))


@dataclass
class Story:
    key: str
    label: str
    start: int
    end: int
    raw: str = ""


def stories(doc: DocText, max_chars: int) -> list[Story]:
    """Each story the FIB lists, with its raw text (at most ``max_chars`` characters in all)."""
    out: list[Story] = []
    cp = 0
    budget = max_chars
    for (key, label, _), length in zip(STORIES, doc.fib.ccp, strict=True):
        if length < 0 or length > 0x7FFFFFFF:
            raise corrupt("a text length is out of range")
        end = cp + length
        if length and cp < doc.length:
            take = min(end, doc.length, cp + max(budget, 0))
            story = Story(key, label, cp, end, doc.read(cp, take) if take > cp else "")
            budget -= len(story.raw)
            out.append(story)
        cp = end
    return out


def split_story(doc: DocText, story: Story, plc_index: int) -> list[str]:
    """A story cut at the positions of its PLC (one piece per footnote, comment...), empty ones left out."""
    cps = [c for c in doc.plc(plc_index) if 0 <= c <= story.end - story.start]
    if not cps:
        return [t for t in [clean(story.raw).strip()] if t]
    cuts = sorted(set([0, *cps, len(story.raw)]))
    return [t for a, b in zip(cuts, cuts[1:], strict=False) if (t := clean(story.raw[a:b]).strip())]


def headers_footers(doc: DocText, story: Story) -> list[dict]:
    """Header and footer texts by section (the PlcfHdd: six separator stories, then six per section)."""
    cps = doc.plc(FC_PLCF_HDD)
    out: list[dict] = []
    if doc.fib.old or len(cps) < 8:
        text = clean(story.raw).strip()
        return [{"section": 1, "kind": "header/footer", "which": "all", "text": text}] if text else []
    for i in range(6, len(cps) - 1):
        a, b = cps[i], cps[i + 1]
        if not 0 <= a < b <= len(story.raw):
            continue
        text = clean(story.raw[a:b]).strip()
        if text:
            kind, which = HEADER_KINDS[(i - 6) % 6]
            out.append({"section": (i - 6) // 6 + 1, "kind": kind, "which": which, "text": text})
    return out


def clean(raw: str) -> str:
    """Resolve fields (keep what Word shows: the result, not the instruction) and control characters."""
    if not FIELD_MARK.search(raw):
        return raw.translate(TRANSLATE)
    out: list[str] = []
    stack: list[bool] = []  # per open field: whether we are past its separator (showing its result)
    pos = 0
    for m in FIELD_MARK.finditer(raw):
        if not stack or stack[-1]:
            out.append(raw[pos: m.start()])
        ch = m.group()
        if ch == FIELD_BEGIN:
            stack.append(False)
        elif ch == FIELD_SEP:
            if stack:
                stack[-1] = True
        elif stack:
            stack.pop()
        pos = m.end()
    if not stack or stack[-1]:
        out.append(raw[pos:])
    return "".join(out).translate(TRANSLATE)
