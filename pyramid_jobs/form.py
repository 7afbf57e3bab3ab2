"""Reading an upload form: a bounded, streaming multipart parser in front of the job store.

WebOb's ``request.POST`` accepts any number of parts and fields of any size, keeps a temporary
file open for each file part and accepts a body cut before its closing boundary. Here the body
is read once, in chunks, by the ``multipart`` library's push parser, and refused as soon as it
breaks a rule: only the fields the API knows, each at most once and bounded in size, at most
``jobs.max_files_per_request`` file parts, each at most ``jobs.max_upload_size``, and a complete
body. File parts are written to named files in ``{data_dir}/incoming`` (the volume the uploads
end on, so a full disk is seen while receiving), one open at a time; :meth:`UploadForm.close`
removes whatever was not taken, on every path.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import multipart

from .errors import BadRequest, InsufficientStorage

CHUNK = 64 * 1024
FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@dataclass
class FilePart:
    """One received file: the client's name (raw, not yet display text), a temporary path, its size."""

    filename: str | None
    path: Path
    size: int


@dataclass
class UploadForm:
    files: list[FilePart] = field(default_factory=list)
    fields: dict[str, bytes] = field(default_factory=dict)
    file_parts: int = 0

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None else value.decode("utf-8", "replace")

    def close(self) -> None:
        """Remove the temporary files nobody took (a taken file was moved away)."""
        for part in self.files:
            part.path.unlink(missing_ok=True)

    def __enter__(self) -> UploadForm:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class TooManyFiles(BadRequest):
    code = "too_many_files"


def out_of_space() -> InsufficientStorage:
    return InsufficientStorage("The service is out of storage space; nothing was stored. Try again later.")


def is_out_of_space(exc: BaseException) -> bool:
    """A write refused for want of space: the disk or quota is full (or a file-size limit hit),
    or SQLite could not grow its database file."""
    if isinstance(exc, OSError):
        return exc.errno in FULL
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc)


@dataclass(frozen=True)
class FormRules:
    """What a form may hold: ``fields`` maps a text field's name to its largest size in bytes."""

    staging: Path
    max_files: int
    keep_files: int
    max_file_size: int
    fields: Mapping[str, int]
    file_field: str = "file"


#: The largest processor name a form may carry (names are short words).
MAX_PROCESSOR_FIELD = 200
#: The largest CSRF token field (Pyramid's are 40 characters).
MAX_CSRF_FIELD = 512


def form_rules(settings: Any, *, keep_files: int, extra: str | None = None) -> FormRules:
    """The rules of the upload form under ``settings`` (``jobs.*``); ``extra`` names the host's CSRF
    token field, when it has one."""
    fields = {"processor": MAX_PROCESSOR_FIELD, "options": settings.max_options_size}
    if extra:
        fields[extra] = MAX_CSRF_FIELD
    return FormRules(staging=Path(settings.data_dir) / "incoming", max_files=settings.max_files_per_request,
                     keep_files=keep_files, max_file_size=settings.max_upload_size, fields=fields)


def read_form(stream: BinaryIO, content_type: str | None, content_length: int | None,
              rules: FormRules) -> UploadForm:
    """Parse a request body under ``rules``; raise a :class:`BadRequest` (400), a ``FileTooLarge``
    (413) or an :class:`InsufficientStorage` (507), leaving no file behind."""
    boundary = _boundary(content_type or "")
    if content_length is None or content_length < 0:
        raise BadRequest("The request needs a Content-Length.")
    form = UploadForm()
    try:
        _Reader(form, rules).run(stream, boundary, content_length)
    except BaseException:
        form.close()
        raise
    return form


def _boundary(content_type: str) -> str:
    kind, params = multipart.parse_options_header(content_type)
    if kind != "multipart/form-data" or not params.get("boundary"):
        raise BadRequest("Send the file as multipart/form-data, in a field named 'file'.")
    return params["boundary"]


class _Reader:
    """Feeds the push parser and routes its events; one open file at most at any time."""

    def __init__(self, form: UploadForm, rules: FormRules):
        self.form, self.rules = form, rules
        self.out: BinaryIO | None = None
        self.part: FilePart | None = None
        self.name: str | None = None
        self.buffer: bytearray | None = None

    def run(self, stream: BinaryIO, boundary: str, length: int) -> None:
        parser = multipart.PushMultipartParser(
            boundary, content_length=length, max_header_count=8, max_header_size=4096,
            max_segment_count=self.rules.max_files + len(self.rules.fields) + 1, strict=True)
        remaining = length
        try:
            while remaining > 0:
                chunk = _read(stream, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                for event in parser.parse(chunk):
                    self._event(event)
                if parser.closed:
                    break
            parser.close(check_complete=True)
        except multipart.ParserLimitReached:
            raise BadRequest(f"The form has too many parts or too long part headers: at most "
                             f"{self.rules.max_files} files and the fields {', '.join(sorted(self.rules.fields))}, "
                             "each once.") from None
        except multipart.MultipartError:
            raise BadRequest("The upload is not a complete multipart/form-data body (cut short, or "
                             "malformed); nothing was stored.") from None
        except OSError as exc:
            if is_out_of_space(exc):
                raise out_of_space() from None
            raise
        finally:
            self._close_file()

    def _event(self, event: Any) -> None:
        if isinstance(event, multipart.MultipartSegment):
            self._start(event)
        elif event is None:
            self._end()
        elif self.out is not None:
            self._write(event)
        elif self.buffer is not None:
            self.buffer += event
            if len(self.buffer) > self.rules.fields[self.name]:
                raise _field_too_large(self.name, self.rules.fields[self.name])

    def _start(self, segment: multipart.MultipartSegment) -> None:
        name, rules = segment.name, self.rules
        if name == rules.file_field and segment.filename is not None:
            self.form.file_parts += 1
            if self.form.file_parts > rules.max_files:
                raise TooManyFiles(f"A request may carry at most {rules.max_files} files.")
            if len(self.form.files) < rules.keep_files:
                self._open_file(segment.filename)
            return
        if name not in rules.fields:
            raise BadRequest(f"The form has an unknown field {str(name)[:40]!r}; its fields are "
                             f"{', '.join(sorted({rules.file_field, *rules.fields}))}.")
        if name in self.form.fields:
            raise BadRequest(f"The field {name!r} is given more than once.")
        self.name, self.buffer = name, bytearray()

    def _end(self) -> None:
        if self.buffer is not None:
            self.form.fields[self.name] = bytes(self.buffer)
            self.name = self.buffer = None
        self._close_file()

    def _open_file(self, filename: str) -> None:
        self.rules.staging.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="upload-", dir=self.rules.staging)
        self.part = FilePart(filename, Path(path), 0)
        self.form.files.append(self.part)
        self.out = os.fdopen(fd, "wb")

    def _write(self, chunk: bytes) -> None:
        self.part.size += len(chunk)
        if self.part.size > self.rules.max_file_size:
            from .uploads import too_large

            raise too_large(None, self.rules.max_file_size)
        self.out.write(chunk)

    def _close_file(self) -> None:
        out, self.out = self.out, None
        if out is not None:
            out.close()


def _read(stream: BinaryIO, n: int) -> bytes:
    try:
        return stream.read(n)
    except OSError:  # WebOb's DisconnectionError: the body ended before its Content-Length
        raise BadRequest("The upload ended before its Content-Length; nothing was stored.") from None


def _field_too_large(name: str, limit: int) -> BadRequest:
    if name == "options":
        from .options import BadOption

        return BadOption(f"The options are larger than {limit} bytes.")
    return BadRequest(f"The field {name!r} is larger than {limit} bytes.")


__all__ = ["FilePart", "FormRules", "UploadForm", "read_form", "out_of_space", "is_out_of_space"]
