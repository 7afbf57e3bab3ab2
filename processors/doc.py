"""The doc processor: Word 97-2003 and Word 6/95 binary files, and the .doc files that are not.

In the wild a ``.doc`` is often RTF, HTML or a docx with the old name: these are recognised by
their first bytes, docx is processed as docx, RTF and HTML are refused with a clear message.
Every story of the document is read (main text, headers and footers, footnotes, endnotes,
comments, text boxes) and labelled in the result and in ``text.txt``; ``text.md`` holds the
main text as Markdown (headings, lists, tables, emphasis, links) followed by the other stories.
"""
from __future__ import annotations

import struct
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import warmup
from .docmd import markdown
from .oledoc import (
    FC_PLCF_ATN_TXT,
    FC_PLCF_EDN_TXT,
    FC_PLCF_FTN_TXT,
    WORD97_IDENT,
    DocText,
    Fib,
    Story,
    clean,
    headers_footers,
    read_fib,
    split_story,
    stories,
)
from .safety import OLE_MAGIC, ZIP_MAGIC
from .words import count_words

OLE_KINDS = {
    "Workbook": "an Excel workbook",
    "Book": "an Excel 95 workbook",
    "PowerPoint Document": "a PowerPoint presentation",
    "VisioDocument": "a Visio drawing",
    "__substg1.0_0037001F": "an Outlook message",
}
MAX_ITEMS = 500
ITEM_CHARS = 2000
SPLIT_BY = {"footnotes": FC_PLCF_FTN_TXT, "endnotes": FC_PLCF_EDN_TXT, "comments": FC_PLCF_ATN_TXT}
DAMAGE = (struct.error, IndexError, KeyError, ValueError, TypeError, OverflowError, UnicodeError, EOFError,
          OSError)


class DocProcessor(Processor):
    name = "doc"
    limits = builtin_limits.DOC
    result_template = "processors:templates/doc.jinja2"
    extensions = (".doc", ".dot")
    media_types = ("application/msword",)
    steps = ("Open", "Extract text", "Summarise")
    description = ("Word 97-2003 and Word 6/95 (.doc): every story (main text, headers and footers, footnotes, "
                   "endnotes, comments, text boxes), summary information, word counts and Markdown.")

    def sniff(self, head: bytes) -> bool:
        low = head[:512].lstrip().lower()
        return (head.startswith(OLE_MAGIC) or head.startswith(ZIP_MAGIC) or low.startswith(b"{\\rtf")
                or low.startswith((b"<html", b"<!doctype", b"<?xml", b"mime-version")))

    def warm(self) -> None:
        warmup.load("olefile", "processors.oleprops", "docx", "lxml.etree", "processors.docx")
        warmup.load_words()

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
        if head[:2] in (b"\x9b\xa5", b"\xdb\xa5"):
            raise ProcessingError("unsupported_content", "The file is from Word 1 or Word 2 for Windows, which this "
                                                         "service does not read; save it as .docx and upload it "
                                                         "again.")
        if not head.startswith(OLE_MAGIC):
            raise ProcessingError("corrupt_file", "The file is not a Word document (no OLE2 header).")
        try:
            return _process_ole(ctx)
        except ProcessingError:
            raise
        except (*DAMAGE, RecursionError) as exc:
            ctx.log.warning("doc: damaged file (job %s): %r", ctx.job_id, exc)
            raise ProcessingError("corrupt_file", "The Word document is damaged and could not be read; open it "
                                                  "in Word, save it again and upload the new file.") from None


def _process_ole(ctx: Any) -> dict:
    with ctx.step("Open", total=2) as step:
        word, table, fib, meta = _open(ctx, step)
    with ctx.step("Extract text", total=2) as step:
        doc = DocText(word, table, fib)
        parts = stories(doc, ctx.limits.max_text_size)
        step.advance(message=f"{len(parts)} stories")
        texts = _write_text(ctx, doc, parts)
        ctx.artifact("text.md").write_text(markdown(doc, parts, texts), encoding="utf-8")
        step.advance(message="text and Markdown written")
    with ctx.step("Summarise", total=1) as step:
        result = _summary(ctx, fib, meta, doc, parts, texts)
        step.advance()
    return result


def _open(ctx: Any, step: Any) -> tuple[bytes, bytes | None, Fib, dict]:
    import olefile

    from .oleprops import read_properties

    try:
        ole = olefile.OleFileIO(str(ctx.path))
    except Exception as exc:
        ctx.log.warning("doc: OLE container unreadable (job %s): %r", ctx.job_id, exc)
        raise ProcessingError("corrupt_file", "The Word document's container is damaged and cannot be "
                                              "opened.") from None
    with ole:
        if ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage"):
            raise ProcessingError("encrypted", "The document is encrypted with a password; save it without "
                                               "one and upload it again.")
        if not ole.exists("WordDocument"):
            kind = next((v for k, v in OLE_KINDS.items() if ole.exists(k)), "an Office file")
            raise ProcessingError("unsupported_content", f"The file is {kind}, not a Word document.")
        word = _read_stream(ctx, ole, "WordDocument")
        fib = read_fib(word)
        step.advance(message="read the header")
        if fib.encrypted or fib.obfuscated:
            raise ProcessingError("encrypted", "The Word document is protected with a password; save it "
                                               "without one and upload it again.")
        table = None
        if fib.table is not None:
            if not ole.exists(fib.table):
                raise ProcessingError("corrupt_file", "The Word document is damaged: its table stream is "
                                                      "missing.")
            table = _read_stream(ctx, ole, fib.table)
        meta = read_properties(ole)
        step.advance(message="summary information")
    return word, table, fib, meta


def _read_stream(ctx: Any, ole: Any, name: str) -> bytes:
    """A stream's bytes, after checking it is a stream (a storage of that name is damage) and its size."""
    import olefile

    if ole.get_type(name) != olefile.STGTY_STREAM:
        raise ProcessingError("corrupt_file", f"The Word document is damaged: its {name} part is not a stream.")
    size = ole.get_size(name)
    limit = ctx.limits.max_unzipped_size
    if size > limit:
        raise ProcessingError("too_large", f"The document's {name} stream is {size / 1e6:.0f} MB; the limit is "
                                           f"{limit / 1e6:.0f} MB.")
    try:
        with ole.openstream(name) as f:
            return f.read(limit + 1)
    except Exception as exc:
        ctx.log.warning("doc: stream %s unreadable (job %s): %r", name, ctx.job_id, exc)
        raise ProcessingError("corrupt_file", f"The Word document is damaged: its {name} stream cannot be "
                                              "read.") from None


def _write_text(ctx: Any, doc: DocText, parts: list[Story]) -> dict[str, Any]:
    """``text.txt``: the main text, then each other story under a labelled line."""
    texts: dict[str, Any] = {}
    with open(ctx.artifact("text.txt"), "w", encoding="utf-8") as out:
        for story in parts:
            if story.key == "main":
                text = clean(story.raw)
                texts["main"] = text
                out.write(text.rstrip("\n") + "\n")
                continue
            if story.key == "headers":
                items = [f"{h['kind'].capitalize()} ({h['which']}, section {h['section']}): {h['text']}"
                         for h in (texts.setdefault("headers_footers", headers_footers(doc, story)))]
            elif story.key in SPLIT_BY:
                items = texts[story.key] = split_story(doc, story, SPLIT_BY[story.key])
            else:
                items = texts[story.key] = [t for t in [clean(story.raw).strip()] if t]
            if items:
                out.write(f"\n--- {story.label} ---\n" + "\n".join(items) + "\n")
    return texts


def _summary(ctx: Any, fib: Fib, meta: dict, doc: DocText, parts: list[Story], texts: dict[str, Any]) -> dict:
    main = texts.get("main", "")
    counted = []
    for story in parts:
        if story.key == "main":
            body = main
        elif story.key == "headers":
            body = "\n".join(h["text"] for h in texts.get("headers_footers", []))
        else:
            body = "\n".join(texts.get(story.key, []))
        if body.strip() or story.key == "main":
            counted.append({"part": story.key, "label": story.label, "characters": len(body),
                            "words": count_words(body)})
    return {
        "format": "Word 97-2003" if fib.ident == WORD97_IDENT and not fib.old else "Word 6/95",
        "fib_version": fib.nfib,
        "encoding": "UTF-16 and cp1252" if not fib.old else fib.codepage,
        "fast_saved": fib.complex,
        "properties": meta,
        "characters": sum(p["characters"] for p in counted),
        "words": sum(p["words"] for p in counted),
        "paragraphs": sum(1 for line in main.split("\n") if line.strip()),
        "parts": counted,
        "headers_footers": [dict(h, text=h["text"][:ITEM_CHARS]) for h in texts.get("headers_footers", [])][:MAX_ITEMS],
        "footnotes": [t[:ITEM_CHARS] for t in texts.get("footnotes", [])][:MAX_ITEMS],
        "endnotes": [t[:ITEM_CHARS] for t in texts.get("endnotes", [])][:MAX_ITEMS],
        "comments": [{"text": t[:ITEM_CHARS]} for t in texts.get("comments", [])][:MAX_ITEMS],
        "text_boxes": [t[:ITEM_CHARS] for t in texts.get("textboxes", []) + texts.get("header_textboxes", [])
                       ][:MAX_ITEMS],
        "preview": main[: ctx.limits.preview_chars],
    }


@hookimpl
def jobs_register_processors():
    return [DocProcessor()]
