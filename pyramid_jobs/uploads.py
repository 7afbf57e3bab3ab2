"""Receiving an upload: streamed to disk in chunks, cut at the size limit, checked by content."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

from .errors import ContentMismatch, FileTooLarge
from .i18n import Message
from .processor import Processor

CHUNK = 1024 * 1024
SNIFF_BYTES = 8192
MAX_NAME = 200
MAX_EXTENSION = 16


def human_size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1000
    return f"{n} TB"


def too_large(size: int | None, limit: int) -> FileTooLarge:
    if size:
        return FileTooLarge(Message("The file is ${size}; the limit is ${limit}.", size=human_size(size),
                                    limit=human_size(limit)))
    return FileTooLarge(Message("The file is too large; the limit is ${limit}.", limit=human_size(limit)))


def save_upload(src: BinaryIO, dest: Path, limit: int) -> int:
    """Copy ``src`` to ``dest`` in chunks; refuse past ``limit`` bytes leaving nothing behind."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    size = 0
    try:
        with open(part, "wb") as out:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise too_large(None, limit)
                out.write(chunk)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return size


def take_upload(part: Any, dest: Path) -> None:
    """Move a received file (a :class:`~pyramid_jobs.form.FilePart`) to its job's folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part.path, dest)


def check_content(processor: Processor, path: Path, filename: str) -> None:
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    if not processor.sniff(head):
        raise ContentMismatch(Message("By its content, the file '${name}' is not in the ${format} format.",
                                      name=display_name(filename), format=processor.name))


def display_name(filename: str | None) -> str:
    """The client's file name as display text: the last path part, no control characters, bounded."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".") or "upload"
    return shorten(name, MAX_NAME)


def shorten(name: str, limit: int) -> str:
    """``name`` cut to ``limit`` characters, keeping its extension: processors are chosen by it."""
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) + 1 > MAX_EXTENSION:
        return name[:limit]
    return stem[:limit - len(ext) - 1].rstrip() + "." + ext
