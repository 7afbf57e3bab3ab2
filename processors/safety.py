"""Checks shared by the processors: zip containers read from their central directory before any
member is opened, and spreadsheet-formula escaping of exported cells."""
from __future__ import annotations

import errno
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pyramid_jobs import ProcessingError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_zip(path: str | Path, limits: Mapping[str, int]) -> zipfile.ZipFile:
    """Open ``path`` as a zip after checking entry count, total declared size and compression ratio.

    Raises ``ProcessingError('too_large', ...)`` for a zip bomb and ``corrupt_file`` for a zip
    that cannot be read. Returns the open ``ZipFile`` (the caller closes it).
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):  # NotImplementedError: a zip
        # "version needed to extract" past what zipfile knows, as a damaged header reads
        raise ProcessingError("corrupt_file", "The file is not a readable zip container: it is damaged or "
                                              "incomplete.") from None
    try:
        infos = zf.infolist()
        if len(infos) > limits["max_zip_entries"]:
            raise ProcessingError(
                "too_large", f"The file holds {len(infos)} parts; the limit is {limits['max_zip_entries']}."
            )
        total = sum(i.file_size for i in infos)
        if total > limits["max_unzipped_size"]:
            raise ProcessingError(
                "too_large",
                f"The file unpacks to {total / 1e6:.0f} MB; the limit is {limits['max_unzipped_size'] / 1e6:.0f} MB.",
            )
        ratio_limit = limits["max_zip_ratio"]
        for i in infos:
            if i.file_size > 1_000_000 and i.file_size > ratio_limit * max(i.compress_size, 1):
                raise ProcessingError(
                    "too_large",
                    f"The part {i.filename!r} is compressed {i.file_size // max(i.compress_size, 1)} to 1, "
                    f"over the limit of {ratio_limit} to 1: the file looks like a zip bomb.",
                )
    except BaseException:
        zf.close()
        raise
    return zf


@contextmanager
def zip_errors(kind: str) -> Iterator[None]:
    """Turn a damaged member met while reading a zip (bad CRC, broken deflate data, truncated or
    malformed XML) into ``corrupt_file``; the exception's text stays out of the message."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, ParseError, KeyError, UnicodeDecodeError) as exc:
        raise ProcessingError("corrupt_file", f"The {kind} is damaged: a part of it cannot be read (a bad "
                                              "checksum, broken compressed data or malformed XML).") from exc
    except OSError as exc:  # a member's header offset pointing before the file's start: EINVAL on seek
        if exc.errno != errno.EINVAL:
            raise
        raise ProcessingError("corrupt_file", f"The {kind} is damaged: a part of it points outside the "
                                              "file.") from exc
    except DefusedXmlException:
        raise ProcessingError("corrupt_file", f"The {kind} declares XML entities, which Office files never "
                                              "do; it was refused as unsafe.") from None
    except NotImplementedError:
        raise ProcessingError("unsupported_content", f"The {kind} is compressed with a method this service "
                                                     "does not read.") from None
    except RuntimeError:  # zipfile: "File ... is encrypted, password required"
        raise ProcessingError("encrypted", f"A part of the {kind} is encrypted; save it without a password "
                                           "and upload it again.") from None


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\x00")


def escape_formula(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with ``'`` (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
