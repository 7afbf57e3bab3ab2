"""Bounds on what a processor may read, so that a hostile file ends in bounded time and memory.

Each limit can be changed with a ``jobs.limit.<name>`` setting; processors read them from
``ctx.limits`` (``ctx.limits.max_pages`` or ``ctx.limits.get("max_pages")``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

MB = 1024 * 1024

DEFAULT_LIMITS: dict[str, int] = {
    # OOXML (docx, xlsx) containers, checked from the zip's central directory before opening
    "max_unzipped_size": 200 * MB,
    "max_zip_ratio": 100,
    "max_zip_entries": 10_000,
    # pdf
    "max_pages": 5_000,
    "max_stream_size": 75 * MB,
    # tables (csv, xlsx)
    "max_rows": 100_000_000,
    "max_columns": 10_000,
    "max_cells": 100_000_000,
    "max_field_size": 16 * MB,
    # characters a workbook's shared-string references expand to (a small xlsx can repeat one long string)
    "max_extracted_chars": 256 * MB,
    # text
    "max_text_size": 1024 * MB,
    # how much extracted text a processor keeps in its result JSON (artifacts hold the rest)
    "preview_chars": 2_000,
}


class Limits(Mapping):
    """Read-only mapping of limit name to integer, with attribute access."""

    def __init__(self, overrides: Mapping[str, int] | None = None):
        self._values = dict(DEFAULT_LIMITS)
        if overrides:
            self._values.update(overrides)

    def __getitem__(self, key: str) -> int:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> int:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __repr__(self) -> str:
        return f"Limits({self._values!r})"
