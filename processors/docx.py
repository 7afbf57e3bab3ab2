"""The docx processor (python-docx): properties, headings outline, counts, tables, links, comments.

The zip is checked from its central directory before python-docx reads a member (it builds a
full tree of each), and its XML parser does not expand entities.
"""
from __future__ import annotations

import json
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import warmup
from .ooxml import open_ooxml
from .words import count_words

TABLE_ROWS = 5
MAX_TABLES = 50
MAX_LINKS = 500
MAX_COMMENTS = 500


class DocxProcessor(Processor):
    name = "docx"
    limits = builtin_limits.DOCX
    result_template = "processors:templates/docx.jinja2"
    extensions = (".docx", ".docm")
    media_types = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
    steps = ("Open", "Extract text", "Summarise")
    description = ("Word (docx): properties, headings outline, paragraph, table, image and word counts, "
                   "tables, hyperlinks, comments, and the text.")

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0")

    def warm(self) -> None:
        warmup.load("docx", "lxml.etree", "processors.wordml", "processors.markdown")
        warmup.load_words()

    def process(self, ctx: Any) -> dict:
        with ctx.step("Open", total=2) as step:
            zf = open_ooxml(ctx.path, ctx.limits, required="word/document.xml", kind="Word")
            with zf:
                images = sum(1 for n in zf.namelist() if n.startswith("word/media/"))
            step.advance(message="checked the container")
            doc = _open_document(ctx)
            step.advance(message="parsed")
        return read_document(ctx, doc, images)


def _open_document(ctx: Any) -> Any:
    import docx

    try:
        return docx.Document(str(ctx.path))
    except Exception as exc:  # python-docx and zipfile raise many kinds for one cause: a damaged file
        ctx.log.warning("docx: unreadable package (job %s): %r", ctx.job_id, exc)
        raise ProcessingError("corrupt_file", "The Word document is damaged (a part of it cannot be unpacked or "
                                              "read); open it in Word, save it again and upload the new "
                                              "file.") from None


def read_document(ctx: Any, doc: Any, images: int) -> dict:
    """Walk the body in document order; shared with the doc processor for .doc files that are docx."""
    from . import markdown as md
    from .wordml import Walker, notes

    walker = Walker(doc)
    body = _plain_body(ctx, doc)
    total = len(body)
    counts = {"paragraphs": 0, "empty": 0, "tables": 0, "nested": 0, "words": 0, "characters": 0}
    outline: list[dict] = []
    tables: list[dict] = []
    preview = Preview(ctx.limits.preview_chars)
    pending: list[str] = []
    with ctx.step("Extract text", total=total) as step, \
            open(ctx.artifact("text.txt"), "w", encoding="utf-8") as out, \
            open(ctx.artifact("text.md"), "w", encoding="utf-8") as md_out:
        previous_item = False
        for n, block in enumerate(walker.blocks(body), start=1):
            _count(block, counts, outline, tables)
            if block.markdown:
                md_out.write(("\n" if previous_item and block.list_item else "\n\n" if n > 1 else "") + block.markdown)
                previous_item = block.list_item
            pending.append(block.text)
            preview.add(block.text)
            if len(pending) >= 500:  # words counted and text written in batches
                counts["words"] += _flush(pending, out)
                step.advance(len(pending), message=f"block {n} of {total}")
                pending.clear()
        counts["words"] += _flush(pending, out)
        headers, comments = _headers_footers(doc), _comments(doc)
        parts = [{"part": "main", "label": "Main text", "characters": counts["characters"], "words": counts["words"]}]
        for key, label, items in (
                ("headers", "Headers and footers", [f"{h['kind'].capitalize()} (section {h['section']}): "
                                                    f"{h['text']}" for h in headers]),
                ("footnotes", "Footnotes", notes(doc, walker, "footnotes")),
                ("endnotes", "Endnotes", notes(doc, walker, "endnotes")),
                ("comments", "Comments", [c["text"] for c in comments])):
            if items:  # each other story after a labelled line, as the doc processor writes them
                out.write(f"\n--- {label} ---\n" + "\n".join(items) + "\n")
                md_out.write(f"\n\n---\n\n## {label}\n\n" + "\n\n".join(md.escape(i) for i in items))
                body_text = "\n".join(items)
                parts.append({"part": key, "label": label, "characters": len(body_text),
                              "words": count_words(body_text)})
        md_out.write("\n")

    with ctx.step("Summarise", total=1) as step:
        with open(ctx.artifact("outline.json"), "w", encoding="utf-8") as f:
            json.dump(outline, f, ensure_ascii=False, indent=1)
        result = {
            "properties": _properties(doc),
            "paragraphs": counts["paragraphs"],
            "empty_paragraphs": counts["empty"],
            "tables": counts["tables"],
            "nested_tables": counts["nested"],
            "images": images,
            "words": sum(p["words"] for p in parts),
            "characters": sum(p["characters"] for p in parts),
            "parts": parts,
            "outline": outline[:500],
            "table_previews": tables,
            "hyperlinks": walker.links[:MAX_LINKS],
            "comments": comments,
            "headers_footers": headers,
            "sections": len(doc.sections),
            "preview": preview.text(),
        }
        step.advance()
    return result


def _plain_body(ctx: Any, doc: Any) -> Any:
    """The body parsed again with plain lxml elements: python-docx's element classes make every
    child access a Python-level lookup, which doubled the time of a walk over a large document."""
    import zipfile

    from lxml import etree

    from .wordml import W

    try:
        with zipfile.ZipFile(ctx.path) as zf:
            data = zf.read(str(doc.part.partname).lstrip("/"))
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        body = etree.fromstring(data, parser).find(W + "body")
        if body is not None:
            return body
    except Exception as exc:  # python-docx read it; keep its tree rather than fail
        ctx.log.info("docx: plain re-parse failed (job %s): %r", ctx.job_id, exc)
    return doc.element.body


class Preview:
    """The first characters of the text, for the result."""

    def __init__(self, size: int):
        self.left, self.parts = size, []

    def add(self, text: str) -> None:
        if self.left > 0 and text:
            self.parts.append(text[: self.left] + "\n")
            self.left -= len(self.parts[-1])

    def text(self) -> str:
        return "".join(self.parts).rstrip("\n")


def _count(block: Any, counts: dict, outline: list[dict], tables: list[dict]) -> None:
    counts["characters"] += len(block.text)
    if block.kind == "table":
        counts["tables"] += 1
        counts["nested"] += block.nested_tables
        if len(tables) < MAX_TABLES:
            tables.append({"index": counts["tables"], "rows": len(block.rows),
                           "columns": max((len(r) for r in block.rows), default=0),
                           "first_rows": [r[:20] for r in block.rows[:TABLE_ROWS]]})
        return
    counts["paragraphs"] += 1
    if not block.text.strip():
        counts["empty"] += 1
    if block.heading is not None:
        outline.append({"level": block.heading, "text": block.text.strip()[:500], "style": block.style})


def _flush(texts: list[str], out: Any) -> int:
    if not texts:
        return 0
    joined = "\n".join(texts) + "\n"
    out.write(joined)
    return count_words(joined)


def _properties(doc: Any) -> dict:
    props = doc.core_properties
    out = {}
    for key in ("title", "subject", "author", "keywords", "category", "comments", "last_modified_by",
                "revision", "created", "modified", "last_printed", "language", "version", "content_status"):
        try:
            value = getattr(props, key)
        except Exception:
            continue
        if value not in (None, "", 0):
            out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _comments(doc: Any) -> list[dict]:
    out = []
    try:
        for c in doc.comments:
            if len(out) >= MAX_COMMENTS:
                break
            ts = c.timestamp
            out.append({"author": c.author, "initials": c.initials, "text": c.text[:2000],
                        "date": ts.isoformat() if ts else None})
    except Exception:
        return out
    return out


def _headers_footers(doc: Any) -> list[dict]:
    out = []
    for i, section in enumerate(doc.sections, start=1):
        for kind in ("header", "footer"):
            try:
                part = getattr(section, kind)
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(p.text for p in part.paragraphs).strip()
            except Exception:
                continue
            if text:
                out.append({"section": i, "kind": kind, "text": text[:1000]})
    return out


@hookimpl
def jobs_register_processors():
    return [DocxProcessor()]
