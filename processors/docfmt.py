"""Formatting of Word 97-2003 documents ([MS-DOC] 2.4.2, 2.6, 2.9): paragraph and character
properties from the FKP pages, style names and built-in identifiers from the stylesheet, list
formats from the list tables. Only what the Markdown writer needs is decoded; every offset is
checked, and anything unreadable gives "no formatting" rather than a failed job.
"""
from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from typing import Any

FC_STSHF, FC_BTE_CHPX, FC_BTE_PAPX, FC_PLF_LST, FC_PLF_LFO = 1, 12, 13, 73, 74
PAGE = 512
MAX_PAGES = 200_000
MAX_STYLES = 4_000
MAX_LISTS = 10_000

SPRM_P_ILVL, SPRM_P_ILFO, SPRM_P_IN_TABLE, SPRM_P_TTP = 0x260A, 0x460B, 0x2416, 0x2417
SPRM_P_ITAP, SPRM_P_INNER_TTP, SPRM_P_OUTLVL, SPRM_P_PAGE_BREAK_BEFORE = 0x6649, 0x244C, 0x2640, 0x2407
SPRM_C_BOLD, SPRM_C_ITALIC = 0x0835, 0x0836
OPERAND = {0: 1, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2, 7: 3}
STI_TITLE = 62
NFC_BULLET, NFC_NONE = 0x17, 0xFF


@dataclass
class Para:
    istd: int = 0
    ilfo: int = 0
    ilvl: int = 0
    in_table: bool = False
    ttp: bool = False
    itap: int = 0
    inner_ttp: bool = False
    outline: int | None = None
    page_break_before: bool = False


@dataclass
class Style:
    sti: int
    name: str
    para: dict[int, int]


def sprms(grpprl: bytes) -> dict[int, int]:
    """The single-valued sprms of a property list (variable-length ones are skipped)."""
    out: dict[int, int] = {}
    pos = 0
    while pos + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, pos)[0]
        pos += 2
        spra = sprm >> 13
        if spra == 6:
            if pos >= len(grpprl):
                break
            if sprm in (0xD608, 0xD606):  # table definitions: a two-byte length
                if pos + 2 > len(grpprl):
                    break
                size = struct.unpack_from("<H", grpprl, pos)[0] + 1
            else:
                size = grpprl[pos] + 1
            pos += size
            continue
        size = OPERAND[spra]
        if pos + size > len(grpprl):
            break
        out[sprm] = int.from_bytes(grpprl[pos: pos + size], "little")
        pos += size
    return out


def _plc_pages(table: bytes, fc: int, lcb: int) -> list[int]:
    if lcb < 12 or fc + lcb > len(table) or (lcb - 4) % 8:
        return []
    n = min((lcb - 4) // 8, MAX_PAGES)
    return [pn & 0x3FFFFF for pn in struct.unpack_from(f"<{n}I", table, fc + 4 * (n + 1))]


def _fkp(word: bytes, pn: int, entry: int) -> list[tuple[int, int, bytes]]:
    """(fc_start, fc_end, property bytes) for each run of one FKP page; ``entry`` is 13 for
    paragraph pages (BxPap), 1 for character pages."""
    page = word[pn * PAGE: pn * PAGE + PAGE]
    if len(page) < PAGE:
        return []
    crun = page[511]
    if 4 * (crun + 1) + entry * crun > 511:
        return []
    fcs = struct.unpack_from(f"<{crun + 1}I", page, 0)
    out = []
    for i in range(crun):
        offset = page[4 * (crun + 1) + entry * i] * 2
        props = b""
        if offset:
            cb = page[offset] if offset < PAGE else 0
            if entry == 1:
                props = page[offset + 1: offset + 1 + cb]
            elif cb:
                props = page[offset + 1: offset + 2 * cb]
            elif offset + 1 < PAGE:
                props = page[offset + 2: offset + 2 + 2 * page[offset + 1]]
        out.append((fcs[i], fcs[i + 1], props))
    return out


def paragraph_runs(word: bytes, table: bytes, fib: Any) -> list[tuple[int, int, Para]]:
    out = []
    for pn in _plc_pages(table, *fib.fc_lcb(FC_BTE_PAPX)):
        for start, end, props in _fkp(word, pn, 13):
            out.append((start, end, _para(props)))
    out.sort(key=lambda r: r[0])
    return out


def _para(props: bytes) -> Para:
    if len(props) < 2:
        return Para()
    values = sprms(props[2:])
    outline = values.get(SPRM_P_OUTLVL)
    return Para(istd=struct.unpack_from("<H", props, 0)[0], ilfo=values.get(SPRM_P_ILFO, 0),
                ilvl=min(values.get(SPRM_P_ILVL, 0), 8), in_table=bool(values.get(SPRM_P_IN_TABLE)),
                ttp=bool(values.get(SPRM_P_TTP)), itap=values.get(SPRM_P_ITAP, 0) & 0xFFFF,
                inner_ttp=bool(values.get(SPRM_P_INNER_TTP)), outline=outline if outline is not None and
                outline < 9 else None, page_break_before=bool(values.get(SPRM_P_PAGE_BREAK_BEFORE)))


def character_runs(word: bytes, table: bytes, fib: Any) -> list[tuple[int, int, tuple[bool, bool]]]:
    """(fc_start, fc_end, (bold, italic)) of direct character formatting."""
    out = []
    for pn in _plc_pages(table, *fib.fc_lcb(FC_BTE_CHPX)):
        for start, end, props in _fkp(word, pn, 1):
            values = sprms(props)
            out.append((start, end, (values.get(SPRM_C_BOLD, 0) in (1, 0x81),
                                     values.get(SPRM_C_ITALIC, 0) in (1, 0x81))))
    out.sort(key=lambda r: r[0])
    return out


def to_cp(pieces: list[Any], runs: list[tuple[int, int, Any]]) -> tuple[list[int], list[int], list[Any]]:
    """FC ranges turned into character-position ranges through the piece table, sorted by position:
    parallel lists of starts, ends and values, ready for ``bisect``."""
    starts = [r[0] for r in runs]
    found: list[tuple[int, int, Any]] = []
    for p in pieces:
        width = 1 if p.single_byte else 2
        fc_end = p.fc + (p.cp_end - p.cp_start) * width
        i = max(bisect.bisect_right(starts, p.fc) - 1, 0)
        while i < len(runs) and runs[i][0] < fc_end:
            a, b, value = runs[i]
            lo, hi = max(a, p.fc), min(b, fc_end)
            if lo < hi:
                found.append((p.cp_start + (lo - p.fc) // width, p.cp_start + (hi - p.fc + width - 1) // width, value))
            i += 1
    found.sort(key=lambda r: r[0])
    return [f[0] for f in found], [f[1] for f in found], [f[2] for f in found]


def stylesheet(table: bytes, fib: Any) -> dict[int, Style]:
    """Styles by index: built-in identifier (sti), name and paragraph sprms."""
    fc, lcb = fib.fc_lcb(FC_STSHF)
    if lcb < 4 or fc + lcb > len(table):
        return {}
    data = table[fc: fc + lcb]
    cb_stshi = struct.unpack_from("<H", data, 0)[0]
    if cb_stshi < 4 or 2 + cb_stshi > len(data):
        return {}
    cstd, cb_base = struct.unpack_from("<HH", data, 2)
    pos = 2 + cb_stshi
    out: dict[int, Style] = {}
    for istd in range(min(cstd, MAX_STYLES)):
        if pos + 2 > len(data):
            break
        cb = struct.unpack_from("<H", data, pos)[0]
        std = data[pos + 2: pos + 2 + cb]
        pos += 2 + cb
        if len(std) >= max(cb_base, 10) + 2:
            out[istd] = _style(std, cb_base)
    return out


def _style(std: bytes, cb_base: int) -> Style:
    sti = struct.unpack_from("<H", std, 0)[0] & 0x0FFF
    stk = struct.unpack_from("<H", std, 2)[0] & 0x000F
    cch = struct.unpack_from("<H", std, cb_base)[0]
    name_end = cb_base + 2 + 2 * cch
    name = std[cb_base + 2: name_end].decode("utf-16-le", "replace")
    para: dict[int, int] = {}
    pos = name_end + 2  # the name's terminating null
    pos += pos % 2
    if stk == 1 and pos + 2 <= len(std):  # a paragraph style: its first UPX holds istd + paragraph sprms
        cb_upx = struct.unpack_from("<H", std, pos)[0]
        upx = std[pos + 2: pos + 2 + cb_upx]
        if len(upx) >= 2:
            para = sprms(upx[2:])
    return Style(sti, name, para)


def list_formats(table: bytes, fib: Any) -> dict[int, list[int]]:
    """ilfo (1-based) → number format of each level (0x17 bullet, 0 decimal...)."""
    fc, lcb = fib.fc_lcb(FC_PLF_LST)
    if lcb < 2 or fc + lcb > len(table):
        return {}
    count = min(struct.unpack_from("<h", table, fc)[0], MAX_LISTS)
    by_id: dict[int, list[int]] = {}
    pos = fc + lcb  # the LVLs follow the PlfLst
    for i in range(max(count, 0)):
        at = fc + 2 + 28 * i
        if at + 28 > len(table):
            break
        lsid = struct.unpack_from("<i", table, at)[0]
        levels = 1 if table[at + 26] & 1 else 9
        formats = []
        for _ in range(levels):
            if pos + 28 > len(table):
                break
            nfc, cb_chpx, cb_papx = table[pos + 4], table[pos + 24], table[pos + 25]
            pos += 28 + cb_chpx + cb_papx
            if pos + 2 > len(table):
                break
            pos += 2 + 2 * struct.unpack_from("<H", table, pos)[0]
            formats.append(nfc)
        by_id[lsid] = formats
    fc, lcb = fib.fc_lcb(FC_PLF_LFO)
    if lcb < 4 or fc + lcb > len(table):
        return {}
    out = {}
    for i in range(min(struct.unpack_from("<i", table, fc)[0], MAX_LISTS)):
        at = fc + 4 + 16 * i
        if at + 4 > len(table):
            break
        out[i + 1] = by_id.get(struct.unpack_from("<i", table, at)[0], [])
    return out
