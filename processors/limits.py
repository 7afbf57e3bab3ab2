"""The built-in processors' limits and their defaults: each processor declares the ones it reads.

``jobs.limit.<name>`` changes a limit for every processor that declares it (docs/settings.md).
"""
from __future__ import annotations

MB = 1024 * 1024

#: text kept in a result (the artifacts hold the rest)
PREVIEW = {"preview_chars": 2_000}
#: a text file, or the text taken out of a document
TEXT = {"max_text_size": 1024 * MB}
#: OOXML (docx, xlsx) containers, checked from the zip's central directory before opening
OOXML = {"max_unzipped_size": 200 * MB, "max_zip_ratio": 100, "max_zip_entries": 10_000}
#: tables (csv, xlsx)
TABLE = {"max_rows": 100_000_000, "max_columns": 10_000, "max_cells": 100_000_000}

TXT = {**TEXT, **PREVIEW}
CSV = {**TABLE, "max_field_size": 16 * MB}
XLSX = {**OOXML, **TABLE}
DOCX = {**OOXML, **PREVIEW}
DOC = {**OOXML, **TEXT, **PREVIEW}  # a ".doc" that is really a docx is read as one
PDF = {"max_pages": 5_000, "max_stream_size": 75 * MB, **PREVIEW}
