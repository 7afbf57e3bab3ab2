"""The docx processor (python-docx): properties, headings outline, counts, tables, links, comments.

The zip is checked from its central directory before python-docx reads a member (it builds a
full tree of each), and its XML parser does not expand entities.
"""
from __future__ import annotations

import json
import re
from typing import Any

from pyramid_jobs import ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from .ooxml import open_ooxml

WORD = re.compile(r"\w+(?:['’-]\w+)*")
TABLE_ROWS = 5
MAX_TABLES = 50
MAX_LINKS = 500
MAX_COMMENTS = 500
HEADING = re.compile(r"^heading\s*(\d)$", re.I)


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

    def process(self, ctx: Any) -> dict:
        with ctx.step("Open", total=2) as step:
            zf = open_ooxml(ctx.path, ctx.limits, required="word/document.xml", kind="Word")
            with zf:
                images = sum(1 for n in zf.namelist() if n.startswith("word/media/"))
            step.advance(message="checked the container")
            doc = _open_document(ctx.path)
            step.advance(message="parsed")
        return read_document(ctx, doc, images)


def _open_document(path: Any) -> Any:
    import docx
    from lxml.etree import LxmlError

    try:
        return docx.Document(str(path))
    except (KeyError, ValueError, LxmlError) as exc:
        raise ProcessingError("corrupt_file", f"The Word document could not be read: it looks damaged "
                                              f"({type(exc).__name__}: {str(exc)[:200]}).") from None
    except Exception as exc:
        raise ProcessingError("corrupt_file", f"The Word document could not be read ({type(exc).__name__}).") \
            from None


def read_document(ctx: Any, doc: Any, images: int) -> dict:
    """Walk the body in document order; shared with the doc processor for .doc files that are docx."""
    from docx.table import Table

    style_names = {s.style_id: s.name for s in doc.styles if getattr(s, "style_id", None)}
    body = doc.element.body
    total = len(body)
    paragraphs = words = characters = empty = 0
    outline: list[dict] = []
    tables: list[dict] = []
    links: list[dict] = []
    preview: list[str] = []
    preview_left = ctx.limits.preview_chars
    levels: dict[str, int | None] = {}
    pending: list[str] = []
    has_links = bool(body.xpath("./w:p/w:hyperlink"))  # one C-speed search instead of one per paragraph
    with ctx.step("Extract text", total=total) as step, open(ctx.artifact("text.txt"), "w", encoding="utf-8") as out:
        for n, block in enumerate(doc.iter_inner_content(), start=1):
            if isinstance(block, Table):
                rows = _table_rows(block)
                tables_text = "\n".join("\t".join(r) for r in rows)
                if len(tables) < MAX_TABLES:
                    tables.append({"index": len(tables) + 1, "rows": len(block.rows), "columns": len(block.columns),
                                   "first_rows": [r[:20] for r in rows[:TABLE_ROWS]]})
                text = tables_text
            else:
                paragraphs += 1
                text = paragraph_text(block._p)
                if not text.strip():
                    empty += 1
                style_id = block._p.style
                if style_id is not None:
                    style = style_names.get(style_id, style_id)
                    level = levels.get(style)
                    if level is None and style not in levels:
                        level = levels[style] = _heading_level(style)
                    if level is not None and text.strip():
                        outline.append({"level": level, "text": text.strip()[:500], "style": style})
                if has_links and len(links) < MAX_LINKS and block._p.hyperlink_lst:
                    for link in block.hyperlinks:
                        links.append({"text": link.text[:500], "url": link.url or (f"#{link.fragment}"
                                                                                   if link.fragment else None)})
            characters += len(text)
            pending.append(text)
            if preview_left > 0 and text:
                preview.append(text[:preview_left] + "\n")
                preview_left -= len(preview[-1])
            if len(pending) >= 500:  # words counted and text written in batches: one regex pass each
                words += _flush(pending, out)
                step.advance(len(pending), message=f"block {n} of {total}")
                pending.clear()
        words += _flush(pending, out)

    with ctx.step("Summarise", total=1) as step:
        with open(ctx.artifact("outline.json"), "w", encoding="utf-8") as f:
            json.dump(outline, f, ensure_ascii=False, indent=1)
        result = {
            "properties": _properties(doc),
            "paragraphs": paragraphs,
            "empty_paragraphs": empty,
            "tables": len(doc.tables),
            "images": images,
            "words": words,
            "characters": characters,
            "outline": outline[:500],
            "table_previews": tables,
            "hyperlinks": links,
            "comments": _comments(doc),
            "headers_footers": _headers_footers(doc),
            "sections": len(doc.sections),
            "preview": "".join(preview).rstrip("\n"),
        }
        step.advance()
    return result


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
T, TAB, BR, CR, PPR = W + "t", W + "tab", W + "br", W + "cr", W + "pPr"
DEL = W + "del"


def paragraph_text(p: Any) -> str:
    """A paragraph's text in one C-level walk (python-docx runs an XPath query per paragraph and
    per run). Reads runs wherever they sit (hyperlinks, fields, insertions), skips deletions and
    the paragraph's properties, whose ``w:tab`` elements are tab stops, not tabs."""
    out: list[str] = []
    for child in p:
        if child.tag == PPR or child.tag == DEL:
            continue
        for el in child.iter(T, TAB, BR, CR):
            tag = el.tag
            if tag == T:
                out.append(el.text or "")
            elif tag == TAB:
                out.append("\t")
            else:
                out.append("\n")
    return "".join(out)


def _flush(texts: list[str], out: Any) -> int:
    if not texts:
        return 0
    joined = "\n".join(texts) + "\n"
    out.write(joined)
    return len(WORD.findall(joined))


def _heading_level(style: str) -> int | None:
    if style.lower() == "title":
        return 0
    m = HEADING.match(style.strip())
    return int(m.group(1)) if m else None


def _table_rows(table: Any) -> list[list[str]]:
    rows = []
    for tr in table._tbl.tr_lst:
        cells = []
        for tc in tr.tc_lst:
            cells.append(" ".join("".join(t.text or "" for t in p.iter(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")) for p in tc.p_lst))
        rows.append(cells)
    return rows


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
