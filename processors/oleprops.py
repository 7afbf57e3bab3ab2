"""Summary information of OLE files ([MS-OLEPS] property sets) read with a bounded parser.

olefile's own property parser looped for minutes on a fuzzed .doc, allocating as it went, with
no chance to report progress or be cancelled. This reader takes at most ``MAX_STREAM`` bytes of
a property stream, reads at most ``MAX_PROPERTIES`` properties, checks every offset against the
bytes it holds and never loops on a count read from the file beyond those caps.
"""
from __future__ import annotations

import datetime as dt
import struct
from typing import Any

MAX_STREAM = 256 * 1024
MAX_PROPERTIES = 256
MAX_STRING = 64 * 1024

SUMMARY = "\x05SummaryInformation"
DOC_SUMMARY = "\x05DocumentSummaryInformation"
SUMMARY_IDS = {2: "title", 3: "subject", 4: "author", 5: "keywords", 6: "comments", 8: "last_saved_by",
               9: "revision_number", 12: "create_time", 13: "last_saved_time", 14: "num_pages", 15: "num_words",
               16: "num_chars", 18: "creating_application"}
DOC_SUMMARY_IDS = {2: "category", 14: "manager", 15: "company"}
VT_I2, VT_I4, VT_BOOL, VT_LPSTR, VT_LPWSTR, VT_FILETIME = 2, 3, 11, 30, 31, 64
CODEPAGE_ID = 1
EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)


def read_properties(ole: Any) -> dict[str, Any]:
    """Title, author, dates and counts from the two summary streams; damaged parts are skipped."""
    out: dict[str, Any] = {}
    for name, ids in ((SUMMARY, SUMMARY_IDS), (DOC_SUMMARY, DOC_SUMMARY_IDS)):
        data = _stream(ole, name)
        if data:
            for key, value in parse_property_set(data, ids).items():
                out.setdefault(key, value)
    return out


def _stream(ole: Any, name: str) -> bytes | None:
    import olefile

    try:
        if ole.get_type(name) != olefile.STGTY_STREAM or ole.get_size(name) > MAX_STREAM:
            return None
        with ole.openstream(name) as f:
            return f.read(MAX_STREAM)
    except Exception:  # a damaged directory entry or sector chain: no properties, not a failed job
        return None


def parse_property_set(data: bytes, ids: dict[int, str]) -> dict[str, Any]:
    """The properties named in ``ids`` from the first section of a property-set stream."""
    if len(data) < 48 or data[:2] != b"\xfe\xff":
        return {}
    if struct.unpack_from("<I", data, 24)[0] < 1:
        return {}
    start = struct.unpack_from("<I", data, 44)[0]
    if start + 8 > len(data):
        return {}
    count = min(struct.unpack_from("<I", data, start + 4)[0], MAX_PROPERTIES)
    entries = []
    for i in range(count):
        pos = start + 8 + 8 * i
        if pos + 8 > len(data):
            break
        entries.append(struct.unpack_from("<II", data, pos))
    codepage = 1252
    for pid, offset in entries:
        if pid == CODEPAGE_ID:
            value = _value(data, start + offset, codepage)
            if isinstance(value, int):
                codepage = value & 0xFFFF
    out: dict[str, Any] = {}
    for pid, offset in entries:
        key = ids.get(pid)
        if key is None:
            continue
        value = _value(data, start + offset, codepage)
        if value not in (None, "", 0):
            out[key] = value
    return out


def _value(data: bytes, pos: int, codepage: int) -> Any:
    if pos < 0 or pos + 8 > len(data):
        return None
    vt = struct.unpack_from("<H", data, pos)[0]
    pos += 4
    if vt == VT_I2:
        return struct.unpack_from("<h", data, pos)[0]
    if vt in (VT_I4, VT_BOOL):
        return struct.unpack_from("<i", data, pos)[0]
    if vt == VT_FILETIME:
        if pos + 8 > len(data):
            return None
        ticks = struct.unpack_from("<Q", data, pos)[0]
        if not ticks:
            return None
        try:
            return (EPOCH + dt.timedelta(microseconds=ticks // 10)).isoformat()
        except OverflowError:
            return None
    if vt in (VT_LPSTR, VT_LPWSTR):
        size = struct.unpack_from("<I", data, pos)[0]
        width = 2 if vt == VT_LPWSTR else 1
        raw = data[pos + 4: pos + 4 + min(size * width, MAX_STRING)]
        return _decode(raw, vt, codepage).split("\x00", 1)[0].strip()
    return None


def _decode(raw: bytes, vt: int, codepage: int) -> str:
    if vt == VT_LPWSTR or codepage == 1200:
        return raw.decode("utf-16-le", "replace")
    if codepage == 65001:
        return raw.decode("utf-8", "replace")
    try:
        return raw.decode(f"cp{codepage}", "replace")
    except LookupError:
        return raw.decode("cp1252", "replace")
