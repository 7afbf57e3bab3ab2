"""The byte stream pandas reads a csv from: decoded by ``StreamDecoder`` (so no sample is trusted
blindly), handed on as UTF-8, with every record bounded while it is read.

A record ends at a newline outside quotes; a quoted field may span many lines, so a bound on the
bytes between newlines bounds nothing (#11). Quotes are tracked by parity, vectorised with numpy;
only quotes at a field's edge count (``5" screen`` is a literal quote, as pandas' parser reads it).
"""
from __future__ import annotations

import io
from typing import Any, BinaryIO

import numpy as np

from .encoding import StreamDecoder

READ = 1 << 20


class RecordTooLong(Exception):
    pass


class TooManyColumns(Exception):
    def __init__(self, columns: int):
        super().__init__(columns)
        self.columns = columns


class RecordScanner:
    """Follows records through UTF-8 chunks: raises ``RecordTooLong`` past ``limit`` bytes in one
    record, and counts the fields of the first record (``TooManyColumns`` past ``max_columns``)."""

    def __init__(self, delimiter: str, quotechar: str, newline: bytes, limit: int, max_columns: int,
                 initial_space: bool = False):
        self.delim = delimiter.encode()[0] if len(delimiter.encode()) == 1 else None
        self.quote = quotechar.encode()[0] if quotechar and len(quotechar.encode()) == 1 else None
        self.newline = newline[-1]
        self.limit = limit
        self.max_columns = max_columns
        edges = {10, 13} | ({self.delim} if self.delim is not None else set()) | ({32} if initial_space else set())
        self.edges = np.array(sorted(edges), dtype=np.uint8)
        self.inside = False
        self.run = 0
        self.last = 10  # the byte before the chunk: a file starts at a record's edge
        self.first_fields: int | None = None
        self.fields = 1

    def feed(self, data: bytes) -> None:
        if not data:
            return
        arr = np.frombuffer(data, dtype=np.uint8)
        quotes = self._quotes(arr) if self.quote is not None and self.quote in data else np.empty(0, np.int64)
        newlines = np.flatnonzero(arr == self.newline)
        parity = (np.searchsorted(quotes, newlines) + self.inside) % 2
        ends = newlines[parity == 0]
        if self.first_fields is None:
            self._count_fields(arr, quotes, ends)
        if ends.size:
            longest = max(self.run + int(ends[0]), int(np.diff(ends).max()) if ends.size > 1 else 0)
            self.run = arr.size - int(ends[-1]) - 1
        else:
            longest = self.run = self.run + arr.size
        if max(longest, self.run) > self.limit:
            raise RecordTooLong()
        self.inside = bool((quotes.size + self.inside) % 2)
        self.last = data[-1]

    def _quotes(self, arr: np.ndarray) -> np.ndarray:
        """Positions of quotes at a field's edge or doubled (``""`` inside a quoted field)."""
        pos = np.flatnonzero(arr == self.quote)
        prev = np.where(pos > 0, arr[np.maximum(pos - 1, 0)], self.last)
        nxt = np.where(pos + 1 < arr.size, arr[np.minimum(pos + 1, arr.size - 1)], 10)
        keep = (np.isin(prev, self.edges) | np.isin(nxt, self.edges) | (prev == self.quote) | (nxt == self.quote))
        return pos[keep]

    def _count_fields(self, arr: np.ndarray, quotes: np.ndarray, ends: np.ndarray) -> None:
        stop = int(ends[0]) if ends.size else arr.size
        if self.delim is not None:
            delims = np.flatnonzero(arr[:stop] == self.delim)
            outside = (np.searchsorted(quotes, delims) + self.inside) % 2 == 0
            self.fields += int(outside.sum())
        if self.fields > self.max_columns:
            raise TooManyColumns(self.fields)
        if ends.size:
            self.first_fields = self.fields


class Source(io.RawIOBase):
    """``f`` decoded and re-encoded as UTF-8 for pandas, scanned record by record.

    ``pos`` is the number of the file's bytes read (for progress); ``nuls`` the NUL characters
    met; ``decoder`` says what the decoding had to do.
    """

    def __init__(self, f: BinaryIO, decoder: StreamDecoder, scanner: RecordScanner):
        self.f = f
        self.decoder = decoder
        self.scanner = scanner
        self.pos = 0
        self.nuls = 0
        self._pending = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._pending and not self._done:
            raw = self.f.read(READ)
            self.pos += len(raw)
            self._done = not raw
            text = self.decoder.decode(raw, final=self._done)
            self.decoder.count(text)
            if "\x00" in text:
                self.nuls += text.count("\x00")
            data = text.encode("utf-8")
            self.scanner.feed(data)
            self._pending = memoryview(data)
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self.f.close()
        super().close()
