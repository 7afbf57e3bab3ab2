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
#: characters a workbook's shared-string references expand to (a small xlsx can repeat one long string)
XLSX = {**OOXML, **TABLE, "max_extracted_chars": 256 * MB}
DOCX = {**OOXML, **PREVIEW}
DOC = {**OOXML, **TEXT, **PREVIEW}  # a ".doc" that is really a docx is read as one
#: pixels of an image page, or of a PDF page rendered for OCR (Pillow's decompression-bomb guard)
IMAGE = {"max_image_pixels": 100_000_000, "max_pages": 5_000, **PREVIEW}
PDF = {"max_stream_size": 75 * MB, **IMAGE}
