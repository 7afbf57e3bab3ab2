"""Text from the Word 97-2003 binary format ([MS-DOC] 2.4.1 "Retrieving Text"), bounds-checked.

The ``WordDocument`` stream starts with the File Information Block; the piece table (the Clx in
the ``0Table``/``1Table`` stream) maps character positions to byte runs, each either cp1252
("compressed") or UTF-16LE. Word 6 and Word 95 files (an older FIB) keep non-fast-saved text as
one cp1252 run between ``fcMin`` and ``fcMac``. Every offset read from the file is checked:
fuzzed and truncated files are common.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from pyramid_jobs import ProcessingError

WORD97_IDENT = 0xA5EC
WORD6_IDENT = 0xA5DC
FC_CLX_INDEX = 33  # fcClx/lcbClx in FibRgFcLcb97
CCP_TEXT_INDEX = 3  # ccpText in FibRgLw97

# Word's special characters: what each becomes in plain text
SPECIAL = {"\r": "\n", "\x07": "\t", "\x0b": "\n", "\x0c": "\n", "\x1e": "-", "\x1f": "", "\x01": "", "\x08": "",
           "\x02": "", "\x05": ""}
FIELD_BEGIN, FIELD_SEP, FIELD_END = "\x13", "\x14", "\x15"


def corrupt(what: str) -> ProcessingError:
    return ProcessingError("corrupt_file", f"The Word document is damaged: {what}.")


@dataclass
class Fib:
    ident: int
    nfib: int
    complex: bool
    encrypted: bool
    obfuscated: bool
    table: str
    ccp_text: int
    fc_clx: int
    lcb_clx: int
    fc_min: int
    fc_mac: int


def _u16(data: bytes, off: int) -> int:
    if off < 0 or off + 2 > len(data):
        raise corrupt("a header field lies past the end of the file")
    return struct.unpack_from("<H", data, off)[0]


def _u32(data: bytes, off: int) -> int:
    if off < 0 or off + 4 > len(data):
        raise corrupt("a header field lies past the end of the file")
    return struct.unpack_from("<I", data, off)[0]


def read_fib(word: bytes) -> Fib:
    if len(word) < 32:
        raise corrupt("the WordDocument stream is too short")
    ident, nfib = _u16(word, 0), _u16(word, 2)
    flags = _u16(word, 0x0A)
    if ident not in (WORD97_IDENT, WORD6_IDENT):
        raise ProcessingError("unsupported_content", "The file has a WordDocument stream but not a Word header.")
    fib = Fib(ident=ident, nfib=nfib, complex=bool(flags & 0x0004), encrypted=bool(flags & 0x0100),
              obfuscated=bool(flags & 0x8000), table="1Table" if flags & 0x0200 else "0Table",
              ccp_text=0, fc_clx=0, lcb_clx=0, fc_min=_u32(word, 0x18), fc_mac=_u32(word, 0x1C))
    if ident == WORD6_IDENT or nfib < 0xC1:
        return fib
    pos = 32
    csw = _u16(word, pos)
    pos += 2 + csw * 2
    cslw = _u16(word, pos)
    pos += 2
    if cslw <= CCP_TEXT_INDEX:
        raise corrupt("the header has no text length")
    fib.ccp_text = _u32(word, pos + CCP_TEXT_INDEX * 4)
    pos += cslw * 4
    cb = _u16(word, pos)
    pos += 2
    if cb <= FC_CLX_INDEX:
        raise corrupt("the header has no piece table")
    fib.fc_clx = _u32(word, pos + FC_CLX_INDEX * 8)
    fib.lcb_clx = _u32(word, pos + FC_CLX_INDEX * 8 + 4)
    return fib


def pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """The piece table: (cp_start, cp_end, fc, compressed) for each piece."""
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
    if len(plc) != lcb or lcb < 4 or (lcb - 4) % 12:
        raise corrupt("the piece table has a bad size")
    n = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for i in range(n):
        fc_raw = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * i + 2)[0]
        compressed = bool(fc_raw & 0x40000000)
        fc = fc_raw & 0x3FFFFFFF
        if cps[i + 1] < cps[i]:
            raise corrupt("the piece table's positions go backwards")
        out.append((cps[i], cps[i + 1], fc // 2 if compressed else fc, compressed))
    return out


def extract_text(word: bytes, table: bytes | None, fib: Fib, max_chars: int) -> str:
    """The main document's text, with Word's control characters and field codes resolved."""
    if fib.ident == WORD6_IDENT or fib.nfib < 0xC1:
        if fib.complex:
            raise ProcessingError("unsupported_content", "This Word 6/95 document was fast-saved; open it in Word "
                                                         "and save it as .docx, then upload it again.")
        if not (0 <= fib.fc_min <= fib.fc_mac <= len(word)):
            raise corrupt("the text lies outside the file")
        raw = word[fib.fc_min: min(fib.fc_mac, fib.fc_min + max_chars)].decode("cp1252", "replace")
        return clean(raw)
    if table is None:
        raise corrupt(f"the {fib.table} stream is missing")
    if fib.fc_clx + fib.lcb_clx > len(table) or fib.lcb_clx == 0:
        raise corrupt("the piece table lies outside the table stream")
    wanted = min(fib.ccp_text, max_chars)
    parts: list[str] = []
    for cp_start, cp_end, fc, compressed in pieces(table[fib.fc_clx: fib.fc_clx + fib.lcb_clx]):
        if cp_start >= wanted:
            break
        count = min(cp_end, wanted) - cp_start
        size = count if compressed else count * 2
        if fc + size > len(word):
            raise corrupt("a piece of text lies past the end of the file")
        chunk = word[fc: fc + size]
        parts.append(chunk.decode("cp1252", "replace") if compressed else chunk.decode("utf-16-le", "replace"))
    return clean("".join(parts))


def clean(raw: str) -> str:
    """Resolve fields (keep what Word shows: the result, not the instruction) and control characters."""
    out: list[str] = []
    stack: list[bool] = []  # per open field: whether we are past its separator (showing its result)
    for ch in raw:
        if ch == FIELD_BEGIN:
            stack.append(False)
        elif ch == FIELD_SEP:
            if stack:
                stack[-1] = True
        elif ch == FIELD_END:
            if stack:
                stack.pop()
        elif stack and not stack[-1]:
            continue  # inside a field's instruction
        else:
            out.append(SPECIAL.get(ch, ch))
    return "".join(out)
