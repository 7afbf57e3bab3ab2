"""Find a Flate stream that decompresses past a limit, before PDFium (which has no such limit) sees it.

PDFium decompresses whatever a page asks for; pypdf stops at a configured size. A decompression
bomb must end as a reported page, not as a worker out of memory, so the pdf processor scans the
file's raw streams first (C-speed zlib, output thrown away in 1 MiB pieces, so memory stays flat)
and hands a file holding an oversized stream to pypdf and its limits instead.

Only plain ``/FlateDecode`` streams at the top level of the file are seen: a stream inside an
encrypted file or behind another filter (ASCII85, LZW) is not measured here.
"""
from __future__ import annotations

import mmap
import re
import zlib
from pathlib import Path

_STREAM = re.compile(rb"stream\r?\n")
IN_PIECE = 1 << 14
OUT_PIECE = 1 << 20
MAX_RATIO = 1100  # deflate cannot expand more than about 1032 to 1


def _inflated_size(data: memoryview, limit: int) -> int:
    """Size ``data`` inflates to, counted up to just past ``limit``; -1 if it is not zlib data.

    Input goes in 16 KiB pieces and output comes out in at most 1 MiB pieces, so neither a bomb
    nor a large image costs more than that in memory or copies."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        for offset in range(0, len(data), IN_PIECE):
            pending: bytes | memoryview = data[offset:offset + IN_PIECE]
            while pending and not inflater.eof:
                size += len(inflater.decompress(pending, OUT_PIECE))
                if size > limit:
                    return size
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error:
        return size if size else -1
    return size


def oversized_stream(path: str | Path, limit: int) -> int | None:
    """The byte offset of the first stream in ``path`` that inflates past ``limit`` bytes, or None."""
    with open(path, "rb") as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return None
        with data:
            view = memoryview(data)
            try:
                for match in _STREAM.finditer(data):
                    start = match.end()
                    if start >= len(data) or data[start] & 0x0F != 8 or data[start] >> 4 > 7:
                        continue  # not a zlib header
                    end = data.find(b"endstream", start)
                    end = end if end > 0 else len(data)
                    if (end - start) * MAX_RATIO <= limit:
                        continue  # too short to inflate past the limit
                    if _inflated_size(view[start:end], limit) > limit:
                        return start
            finally:
                view.release()
    return None
