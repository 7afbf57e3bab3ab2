"""Walking a WordprocessingML body (docx) in document order, writing plain text and Markdown at once.

python-docx's ``iter_inner_content`` yields only the body's direct paragraphs and tables, and its
``text`` properties drop what sits in content controls, nested tables, equations (OMML) and text
after an unexpanded entity. This walker reads the XML tree itself, in one pass per paragraph:
runs wherever they sit (hyperlinks, insertions, fields, content controls, smart tags), the whole
string of each ``w:t``, equation text, text boxes once (not again in their VML fallback), and
cells' content in order, recursing into nested tables.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import markdown as md

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
P, TBL, R, T, TAB, BR, CR, PPR, RPR = (W + n for n in ("p", "tbl", "r", "t", "tab", "br", "cr", "pPr", "rPr"))
HYPERLINK, SDT, SDT_CONTENT, TR, TC, DEL = (W + n for n in ("hyperlink", "sdt", "sdtContent", "tr", "tc", "del"))
SECT_PR, TXBX, NO_BREAK_HYPHEN, SOFT_HYPHEN = W + "sectPr", W + "txbxContent", W + "noBreakHyphen", W + "softHyphen"
OMATH, OMATH_PARA, M_T = M + "oMath", M + "oMathPara", M + "t"
ALTERNATE, CHOICE = MC + "AlternateContent", MC + "Choice"
VAL = W + "val"
SKIP = {PPR, RPR, DEL, W + "instrText", W + "delInstrText", W + "proofErr", W + "bookmarkStart", W + "bookmarkEnd"}
OFF = {"0", "false", "off", "none"}
HEADING = re.compile(r"^heading\s*(\d)$", re.I)
LIST_STYLE = re.compile(r"^list\s*(bullet|number)?\s*(\d)?$", re.I)
BREAK = "\n---\n"  # a page or section break in Markdown (a thematic break, blank lines around it)
PAGE = "\x0c"  # a page break inside a paragraph until the paragraph is written


def whole_text(el: Any) -> str:
    """A ``w:t``'s whole string: with entities left unexpanded, the text after one is its tail."""
    text = el.text or ""
    if len(el):
        text += "".join(child.tail or "" for child in el)
    return text


@dataclass
class Block:
    """One top-level block: its plain text, its Markdown, and what the summary needs to know."""
    kind: str  # "paragraph" or "table"
    text: str
    markdown: str
    style: str | None = None
    heading: int | None = None
    rows: list[list[str]] = field(default_factory=list)
    nested_tables: int = 0
    list_item: bool = False


class Walker:
    """Turns body elements into blocks; knows the document's styles, numbering and link targets."""

    def __init__(self, doc: Any):
        self.styles = _styles(doc)
        self.numbering = _numbering(doc)
        self.rels = {rid: rel.target_ref for rid, rel in doc.part.rels.items() if rel.is_external}
        self.links: list[dict] = []
        self._counters: dict[tuple[str, int], int] = {}
        self._levels: dict[str, int | None] = {}

    def blocks(self, body: Any) -> Iterator[Block]:
        """The body's paragraphs and tables in order, content controls opened."""
        for child in body:
            tag = child.tag
            if tag == P:
                yield self.paragraph(child)
            elif tag == TBL:
                yield self.table(child)
            elif tag == SDT:
                content = child.find(SDT_CONTENT)
                if content is not None:
                    yield from self.blocks(content)
            elif tag == W + "customXml":
                yield from self.blocks(child)

    def paragraph(self, p: Any) -> Block:
        plain: list[str] = []
        marks: list = []  # Markdown strings, and (text, bold, italic) for runs
        self._inline(p, plain, marks)
        text = "".join(plain)
        if PAGE in text:
            text = text.replace(PAGE, "\n")
        ppr = p.find(PPR)
        style_id, num = self._paragraph_props(ppr)
        style = self.styles.get(style_id, {}).get("name", style_id) if style_id else None
        level = self._heading(style_id) if text.strip() else None
        item = False
        if level is not None:
            out = md.heading(text, level).rstrip("\n")
        else:
            body = _render(marks).replace(PAGE, "\n" + BREAK + "\n").strip() if marks else ""
            if num is not None and body:
                out, item = self._list_item(num, body), True
            else:
                out = body
        if ppr is not None and ppr.find(SECT_PR) is not None:
            out += "\n" + BREAK  # the end of a section
        return Block("paragraph", text, out, style=style, heading=level, list_item=item)

    def table(self, tbl: Any) -> Block:
        rows: list[list[str]] = []
        nested = 0
        for tr in _children(tbl, TR):
            cells = []
            for tc in _children(tr, TC):
                text, inner = self._cell(tc)
                nested += inner
                cells.append(text)
            rows.append(cells)
        text = "\n".join("\t".join(r) for r in rows)
        return Block("table", text, md.table(rows).rstrip("\n") if rows else "", rows=rows, nested_tables=nested)

    def _cell(self, tc: Any) -> tuple[str, int]:
        """A cell's content in order: its paragraphs and, flattened, the tables nested in it."""
        parts: list[str] = []
        nested = 0
        for child in tc:
            if child.tag == P:
                plain: list[str] = []
                self._inline(child, plain, None)
                parts.append("".join(plain))
            elif child.tag == TBL:
                inner = self.table(child)
                nested += 1 + inner.nested_tables
                parts.append(" | ".join(" ".join(c for c in row if c) for row in inner.rows))
            elif child.tag == SDT:
                content = child.find(SDT_CONTENT)
                if content is not None:
                    text, inner_count = self._cell(content)
                    parts.append(text)
                    nested += inner_count
        return " ".join(p for p in parts if p.strip()), nested

    def _inline(self, el: Any, plain: list[str], marks: list | None) -> None:
        """Runs and what holds them, in order; ``marks`` (Markdown) is None inside table cells."""
        for child in el:
            tag = child.tag
            if tag == R:
                self._run(child, plain, marks)
            elif tag in SKIP:
                continue
            elif tag == HYPERLINK:
                self._hyperlink(child, plain, marks)
            elif tag == OMATH or tag == OMATH_PARA:
                text = "".join(whole_text(t) for t in child.iter(M_T))
                plain.append(text)
                if marks is not None:
                    marks.append(md.escape(text))
            elif len(child):
                self._inline(child, plain, marks)  # insertions, fields, content controls, smart tags

    def _hyperlink(self, link: Any, plain: list[str], marks: list | None) -> None:
        inner_plain: list[str] = []
        inner_marks: list = []
        self._inline(link, inner_plain, inner_marks)
        text = "".join(inner_plain)
        plain.append(text)
        rid, anchor = link.get(R_ID), link.get(W + "anchor")
        url = self.rels.get(rid) if rid else None
        url = url or (f"#{anchor}" if anchor else None)
        if url and len(self.links) < 500:
            self.links.append({"text": text[:500], "url": url})
        if marks is not None:
            label = _render(inner_marks).strip()
            marks.append(f"[{label}](<{url.replace('>', '%3E')}>)" if url and label else label)

    def _run(self, r: Any, plain: list[str], marks: list | None) -> None:
        out: list[str] = []
        for el in r:
            tag = el.tag
            if tag == T:
                out.append(whole_text(el))
            elif tag == TAB:
                out.append("\t")
            elif tag == BR or tag == CR:
                out.append(PAGE if el.get(W + "type") == "page" else "\n")
            elif tag == NO_BREAK_HYPHEN:
                out.append("-")
            elif tag == W + "drawing" or tag == W + "pict" or tag == ALTERNATE:
                out.append(self._text_boxes(el))
            elif tag == W + "ruby":  # the base text, then its phonetic guide in brackets
                base, guide = [], []
                for part, into in ((el.find(W + "rubyBase"), base), (el.find(W + "rt"), guide)):
                    if part is not None:
                        self._inline(part, into, None)
                out.append("".join(base) + (f"({''.join(guide)})" if guide else ""))
        text = "".join(out)
        plain.append(text)
        if marks is not None and text:
            marks.append((text, *_flags(r)))  # rendered with its neighbours: see _render

    def _text_boxes(self, el: Any) -> str:
        """Text boxes' paragraphs, from the drawing (or the first choice of alternate content), once."""
        if el.tag == ALTERNATE:
            choice = el.find(CHOICE)
            el = choice if choice is not None else el
        found = []
        for box in el.iter(TXBX):
            for p in box.iter(P):
                plain: list[str] = []
                self._inline(p, plain, None)
                found.append("".join(plain))
        return (" " + " ".join(t for t in found if t.strip()) + " ") if found else ""

    def _paragraph_props(self, ppr: Any) -> tuple[str | None, tuple[str, int] | None]:
        style_id = num = None
        if ppr is not None:
            ps = ppr.find(W + "pStyle")
            style_id = ps.get(VAL) if ps is not None else None
            num = _num_pr(ppr.find(W + "numPr"))
        if num is None and style_id:
            num = self.styles.get(style_id, {}).get("num")
        if num is not None and num[0] == "0":
            num = None  # numId 0: numbering switched off
        return style_id, num

    def _heading(self, style_id: str | None) -> int | None:
        if not style_id:
            return None
        if style_id not in self._levels:
            self._levels[style_id] = self._style_heading(style_id)
        return self._levels[style_id]

    def _style_heading(self, style_id: str) -> int | None:
        info = self.styles.get(style_id)
        name = info["name"] if info else style_id
        if name.lower() == "title":
            return 1
        m = HEADING.match(name.strip())
        return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 6 else None

    def _list_item(self, num: tuple[str, int], body: str) -> str:
        num_id, level = num
        fmt = self.numbering.get(num_id, {}).get(level, "bullet")
        indent = "    " * level  # four spaces: deeper than any parent marker, so CommonMark nests it
        if fmt in ("bullet", "none"):
            return f"{indent}- {body}"
        key = (num_id, level)
        self._counters[key] = self._counters.get(key, 0) + 1
        for (other, deeper) in [k for k in self._counters if k[0] == num_id and k[1] > level]:
            del self._counters[(other, deeper)]  # a higher level restarts the deeper ones
        return f"{indent}{self._counters[key]}. {body}"


WRAPPERS = {SDT, SDT_CONTENT, W + "customXml"}


def _children(el: Any, tag: str) -> Iterator[Any]:
    """``el``'s children of ``tag``, looking through content controls and custom XML wrapping them."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in WRAPPERS:
            yield from _children(child, tag)


def _render(marks: list) -> str:
    """Markdown of a paragraph's pieces; neighbouring runs of the same emphasis are joined first, so
    that a word split over runs is not cut by markers."""
    out: list[str] = []
    pending: list[str] = []
    flags = (False, False)
    for piece in marks:
        if isinstance(piece, tuple) and (piece[1], piece[2]) == flags:
            pending.append(piece[0])
            continue
        if pending:
            out.append(_emphasis(md.escape("".join(pending)), *flags))
            pending = []
        if isinstance(piece, tuple):
            pending, flags = [piece[0]], (piece[1], piece[2])
        else:
            out.append(piece)
    if pending:
        out.append(_emphasis(md.escape("".join(pending)), *flags))
    return "".join(out)


def _emphasis(text: str, bold: bool, italic: bool) -> str:
    core = text.strip()
    if not core or not (bold or italic):
        return text
    mark = "***" if bold and italic else "**" if bold else "*"
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    return f"{lead}{mark}{core}{mark}{trail}"


def _flags(r: Any) -> tuple[bool, bool]:
    """A run's direct (bold, italic)."""
    rpr = r.find(RPR)
    if rpr is None:
        return False, False
    b, i = rpr.find(W + "b"), rpr.find(W + "i")
    return (b is not None and (b.get(VAL) or "true").lower() not in OFF,
            i is not None and (i.get(VAL) or "true").lower() not in OFF)


def _num_pr(num_pr: Any) -> tuple[str, int] | None:
    if num_pr is None:
        return None
    num_id = num_pr.find(W + "numId")
    if num_id is None:
        return None
    ilvl = num_pr.find(W + "ilvl")
    try:
        level = min(max(int(ilvl.get(VAL)) if ilvl is not None else 0, 0), 8)
    except (TypeError, ValueError):
        level = 0
    return num_id.get(VAL) or "0", level


def _styles(doc: Any) -> dict[str, dict]:
    """Paragraph styles by id: name and numbering (a style's own, or its base's)."""
    out: dict[str, dict] = {}
    based: dict[str, str] = {}
    try:
        root = doc.styles.element
    except Exception:
        return out
    for st in root.iter(W + "style"):
        sid = st.get(W + "styleId")
        if not sid:
            continue
        name_el = st.find(W + "name")
        name = name_el.get(VAL) if name_el is not None else sid
        ppr = st.find(PPR)
        num = _num_pr(ppr.find(W + "numPr")) if ppr is not None else None
        m = LIST_STYLE.match(name or "")
        if num is not None and m and m.group(2):
            num = (num[0], int(m.group(2)) - 1)
        out[sid] = {"name": name or sid, "num": num}
        base = st.find(W + "basedOn")
        if base is not None and base.get(VAL):
            based[sid] = base.get(VAL)
    for sid, info in out.items():
        seen, cur = {sid}, sid
        while info["num"] is None and cur in based and based[cur] not in seen:
            cur = based[cur]
            seen.add(cur)
            info["num"] = out.get(cur, {}).get("num")
    return out


def _numbering(doc: Any) -> dict[str, dict[int, str]]:
    """numId → {level: number format} from the numbering part ("bullet", "decimal", ...)."""
    try:
        root = doc.part.numbering_part.element
    except Exception:  # no numbering part
        return {}
    abstract: dict[str, dict[int, str]] = {}
    for an in root.iter(W + "abstractNum"):
        levels = {}
        for lvl in an.iter(W + "lvl"):
            fmt = lvl.find(W + "numFmt")
            try:
                levels[int(lvl.get(W + "ilvl") or 0)] = fmt.get(VAL) if fmt is not None else "decimal"
            except ValueError:
                continue
        abstract[an.get(W + "abstractNumId") or ""] = levels
    out: dict[str, dict[int, str]] = {}
    for num in root.iter(W + "num"):
        ref = num.find(W + "abstractNumId")
        if ref is not None:
            out[num.get(W + "numId") or ""] = abstract.get(ref.get(VAL) or "", {})
    return out


def walk(doc: Any, on_block: Callable[[Block], None]) -> Walker:
    walker = Walker(doc)
    for block in walker.blocks(doc.element.body):
        on_block(block)
    return walker


NOTE_SKIP = {"separator", "continuationSeparator", "continuationNotice"}


def notes(doc: Any, walker: Walker, kind: str) -> list[str]:
    """The text of each footnote or endnote (``kind``: "footnotes" or "endnotes"), separators left out."""
    from lxml import etree

    reltype = f"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}"
    part = next((rel.target_part for rel in doc.part.rels.values() if rel.reltype == reltype and
                 not rel.is_external), None)
    if part is None:
        return []
    try:
        root = etree.fromstring(part.blob, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.LxmlError:
        return []
    out = []
    for note in root.iter(W + kind[:-1]):
        if note.get(W + "type") in NOTE_SKIP:
            continue
        text = " ".join(b.text.strip() for b in walker.blocks(note) if b.text.strip())
        if text:
            out.append(text)
    return out
