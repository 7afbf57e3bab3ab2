"""The doc processor: Word 97-2003 (and Word 6/95) binary files, and the .doc files that are not.

In the wild a ``.doc`` is often RTF, HTML or a docx with the old name: these are recognised by
their first bytes, docx is processed as docx, RTF and HTML are refused with a clear message.
"""
from __future__ import annotations

import re
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from .oledoc import extract_text, read_fib
from .safety import OLE_MAGIC, ZIP_MAGIC

WORD = re.compile(r"\w+(?:['’-]\w+)*")
OLE_KINDS = {
    "Workbook": "an Excel workbook",
    "Book": "an Excel 95 workbook",
    "PowerPoint Document": "a PowerPoint presentation",
    "VisioDocument": "a Visio drawing",
    "__substg1.0_0037001F": "an Outlook message",
}


class DocProcessor(Processor):
    name = "doc"
    limits = builtin_limits.DOC
    result_template = "processors:templates/doc.jinja2"
    extensions = (".doc", ".dot")
    media_types = ("application/msword",)
    steps = ("Open", "Extract text", "Summarise")
    description = "Word 97-2003 (.doc): text from the piece table, summary information and word count."

    def sniff(self, head: bytes) -> bool:
        low = head[:512].lstrip().lower()
        return (head.startswith(OLE_MAGIC) or head.startswith(ZIP_MAGIC) or low.startswith(b"{\\rtf")
                or low.startswith((b"<html", b"<!doctype", b"<?xml", b"mime-version")))

    def process(self, ctx: Any) -> dict:
        with open(ctx.path, "rb") as f:
            head = f.read(1024)
        if not head:
            raise ProcessingError("empty_file", "The file is empty.")
        low = head.lstrip().lower()
        if head.startswith(ZIP_MAGIC):
            from .docx import DocxProcessor

            result = DocxProcessor().process(ctx)
            result["format"] = "docx (saved with a .doc name)"
            return result
        if low.startswith(b"{\\rtf"):
            raise ProcessingError("unsupported_content", "The file is RTF saved with a .doc name; save it as .docx "
                                                         "(or rename it .rtf) and upload it again.")
        if low.startswith((b"<html", b"<!doctype", b"<?xml", b"mime-version")):
            raise ProcessingError("unsupported_content", "The file is a web page (HTML or MHT) saved with a .doc "
                                                         "name; save it as .docx and upload it again.")
        if not head.startswith(OLE_MAGIC):
            raise ProcessingError("corrupt_file", "The file is not a Word document (no OLE2 header).")
        import olefile

        with ctx.step("Open", total=2) as step:
            try:
                ole = olefile.OleFileIO(str(ctx.path))
            except Exception as exc:
                raise ProcessingError("corrupt_file", f"The Word document's container is damaged ({exc}).") from None
            try:
                if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
                    raise ProcessingError("encrypted", "The document is encrypted with a password; save it without "
                                                       "one and upload it again.")
                if not ole.exists("WordDocument"):
                    kind = next((v for k, v in OLE_KINDS.items() if ole.exists(k)), "an Office file")
                    raise ProcessingError("unsupported_content", f"The file is {kind}, not a Word document.")
                word = _read_stream(ole, "WordDocument", ctx.limits.max_unzipped_size)
                fib = read_fib(word)
                step.advance(message="read the header")
                if fib.encrypted or fib.obfuscated:
                    raise ProcessingError("encrypted", "The Word document is protected with a password; save it "
                                                       "without one and upload it again.")
                table = _read_stream(ole, fib.table, ctx.limits.max_unzipped_size) if ole.exists(fib.table) else None
                meta = _metadata(ole)
                step.advance(message="summary information")
            finally:
                ole.close()

        with ctx.step("Extract text", total=1) as step:
            text = extract_text(word, table, fib, ctx.limits.max_text_size)
            ctx.artifact("text.txt").write_text(text, encoding="utf-8")
            step.advance(message=f"{len(text)} characters")

        with ctx.step("Summarise", total=1) as step:
            lines = text.split("\n")
            result = {
                "format": "Word 97-2003" if fib.ident == 0xA5EC and fib.nfib >= 0xC1 else "Word 6/95",
                "fib_version": fib.nfib,
                "properties": meta,
                "characters": len(text),
                "words": len(WORD.findall(text)),
                "paragraphs": sum(1 for line in lines if line.strip()),
                "preview": text[: ctx.limits.preview_chars],
            }
            step.advance()
        return result


def _read_stream(ole: Any, name: str, limit: int) -> bytes:
    size = ole.get_size(name)
    if size > limit:
        raise ProcessingError("too_large", f"The document's {name} stream is {size / 1e6:.0f} MB; the limit is "
                                           f"{limit / 1e6:.0f} MB.")
    try:
        return ole.openstream(name).read()
    except Exception as exc:
        raise ProcessingError("corrupt_file", f"The document's {name} stream cannot be read ({exc}).") from None


def _metadata(ole: Any) -> dict:
    try:
        meta = ole.get_metadata()
    except Exception:
        return {}
    out: dict[str, Any] = {}
    for key in ("title", "subject", "author", "keywords", "comments", "last_saved_by", "revision_number",
                "create_time", "last_saved_time", "num_pages", "num_words", "num_chars", "creating_application",
                "company", "category"):
        value = getattr(meta, key, None)
        if isinstance(value, bytes):
            value = value.decode("cp1252", "replace").strip("\x00 ")
        if value not in (None, "", b"", 0):
            out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


@hookimpl
def jobs_register_processors():
    return [DocProcessor()]
