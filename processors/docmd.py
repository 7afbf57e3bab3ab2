"""Markdown for Word binary documents: the main text with headings (from the built-in heading and
title styles, or an outline level), bulleted and numbered lists (from the list tables), tables
(from the in-table and row-end paragraph marks; nested tables flattened into their cell), bold
and italic runs, hyperlink fields as links and page or section breaks as rules; then each other
story (footnotes, headers and footers...) under its own heading.

Word 6/95 files keep their formatting in older structures: their Markdown is the paragraphs only.
"""
from __future__ import annotations

import bisect
import re
from typing import Any

from . import docfmt
from . import markdown as md
from .oledoc import FIELD_BEGIN, FIELD_END, FIELD_SEP, DocText, Story, clean

BREAK = "\n\n---\n\n"
DROP = {"\x01", "\x02", "\x03", "\x04", "\x05", "\x08", "\x1f"}
SPECIAL = re.compile("[\x01-\x05\x08\x0b\x0c\x13-\x15\x1e\x1f]")
LINK = re.compile(r'^\s*HYPERLINK\s+(\\l\s+)?"?([^"\s]+(?:[^"]*[^"\s])?)"?', re.I)
NO_LIST = 0x7FF0  # ilfo values from here up mean "not a list" (Word 97 compatibility values)


class Formatting:
    """Paragraph and character properties by character position, styles and list formats."""

    def __init__(self, doc: DocText):
        word, table, fib = doc.word, doc.table, doc.fib
        self.styles = docfmt.stylesheet(table, fib)
        self.lists = docfmt.list_formats(table, fib)
        self.p_starts, self.p_ends, self.p_values = docfmt.to_cp(doc.pieces, docfmt.paragraph_runs(word, table, fib))
        self.c_starts, self.c_ends, self.c_values = docfmt.to_cp(doc.pieces, docfmt.character_runs(word, table, fib))

    def para(self, cp: int) -> docfmt.Para:
        i = bisect.bisect_right(self.p_starts, cp) - 1
        return self.p_values[i] if i >= 0 and cp < self.p_ends[i] else docfmt.Para()

    def runs(self, start: int, end: int) -> list[tuple[int, int, tuple[bool, bool]]]:
        """Character ranges of [start, end) with their (bold, italic)."""
        out = []
        i = max(bisect.bisect_right(self.c_starts, start) - 1, 0)
        pos = start
        while pos < end:
            if i < len(self.c_starts) and self.c_starts[i] <= pos < self.c_ends[i]:
                stop, value = min(self.c_ends[i], end), self.c_values[i]
            else:
                nxt = self.c_starts[i] if i < len(self.c_starts) and self.c_starts[i] > pos else end
                stop, value = min(max(nxt, pos + 1), end), (False, False)
            out.append((pos, stop, value))
            pos = stop
            if i < len(self.c_starts) and pos >= self.c_ends[i]:
                i += 1
        return out

    def heading(self, props: docfmt.Para) -> int | None:
        style = self.styles.get(props.istd)
        if style is not None:
            if 1 <= style.sti <= 9:
                return min(style.sti, 6)
            if style.sti == docfmt.STI_TITLE:
                return 1
        outline = props.outline if props.outline is not None else \
            (style.para.get(docfmt.SPRM_P_OUTLVL) if style is not None else None)
        return outline + 1 if outline is not None and outline < 6 else None

    def list_format(self, props: docfmt.Para) -> tuple[int, int] | None:
        """(level, number format) when the paragraph is a list item."""
        style = self.styles.get(props.istd)
        ilfo = props.ilfo or (style.para.get(docfmt.SPRM_P_ILFO, 0) if style is not None else 0)
        if not ilfo or ilfo >= NO_LIST:
            return None
        level = props.ilvl or (style.para.get(docfmt.SPRM_P_ILVL, 0) if style is not None else 0)
        formats = self.lists.get(ilfo, [])
        return min(level, 8), formats[level] if level < len(formats) else docfmt.NFC_BULLET


class Writer:
    """Walks the main story paragraph by paragraph, keeping field and table state across them."""

    def __init__(self, doc: DocText, story: Story):
        self.doc, self.story = doc, story
        try:
            self.fmt: Formatting | None = None if doc.fib.old else Formatting(doc)
        except (IndexError, ValueError, KeyError, OverflowError, UnicodeError, TypeError):
            self.fmt = None  # unreadable formatting: the text still comes out, as plain paragraphs
        self.blocks: list[str] = []
        self.rows: list[list[str]] = []
        self.cells: list[str] = []
        self.cell: list[str] = []
        self.fields: list[dict] = []
        self.counters: dict[tuple[int, int], int] = {}
        self.para_no = 0
        self.last_item = False

    def write(self) -> str:
        raw, pos = self.story.raw, 0
        for m in re.finditer("[\r\x07]", raw):
            self.paragraph(pos, raw[pos: m.start()], m.group())
            pos = m.end()
        if pos < len(raw):
            self.paragraph(pos, raw[pos:], "\r")
        self.flush_table()
        return "".join(self.blocks).strip() + "\n"

    def paragraph(self, offset: int, text: str, mark: str) -> None:
        self.para_no += 1
        cp = self.story.start + offset
        props = self.fmt.para(cp + len(text)) if self.fmt else docfmt.Para()
        depth = max(props.itap, 1 if props.in_table else 0)
        if self.fmt is None and mark == "\x07":
            depth = 1
        if depth:
            self.table_paragraph(props, depth, text, mark)
            return
        self.flush_table()
        if props.page_break_before and self.blocks:
            self.add("---")
        plain = clean(text).strip()
        heading = self.fmt.heading(props) if self.fmt and plain else None
        listed = self.fmt.list_format(props) if self.fmt and plain and heading is None else None
        body = self.inline(cp, text).strip()
        if heading is not None:
            self.add(md.heading(plain, heading).rstrip("\n") + (BREAK.rstrip() if "\x0c" in text else ""))
        elif listed is not None:
            self.add(self.item(listed, body), item=True)
        elif body:
            self.add(body)

    def table_paragraph(self, props: docfmt.Para, depth: int, text: str, mark: str) -> None:
        plain = " ".join(clean(text).split())
        if depth > 1:  # a nested table, flattened into the cell that holds it
            if not props.inner_ttp and plain:
                self.cell.append(plain)
            return
        if mark == "\x07" and (props.ttp or (self.fmt is None and not text and not self.cell)):
            self.rows.append(self.cells)
            self.cells = []
            return
        if plain:
            self.cell.append(plain)
        if mark == "\x07":
            self.cells.append(" ".join(self.cell))
            self.cell = []

    def flush_table(self) -> None:
        if self.cell:
            self.cells.append(" ".join(self.cell))
            self.cell = []
        if self.cells:
            self.rows.append(self.cells)
            self.cells = []
        if self.rows:
            self.add(md.table(self.rows).rstrip("\n"))
            self.rows = []

    def add(self, block: str, item: bool = False) -> None:
        if self.blocks:
            self.blocks.append("\n" if item and self.last_item else "\n\n")
        self.blocks.append(block)
        self.last_item = item
        if not item:
            self.counters.clear()

    def item(self, listed: tuple[int, int], body: str) -> str:
        level, nfc = listed
        indent = "    " * level  # four spaces: deeper than any parent marker, so CommonMark nests it
        if nfc in (docfmt.NFC_BULLET, docfmt.NFC_NONE):
            return f"{indent}- {body}"
        self.counters[(level, nfc)] = self.counters.get((level, nfc), 0) + 1
        for key in [k for k in self.counters if k[0] > level]:
            del self.counters[key]
        return f"{indent}{self.counters[(level, nfc)]}. {body}"

    def inline(self, cp: int, text: str) -> str:
        """A paragraph's text as Markdown: emphasis by run, hyperlink fields as links, breaks as rules."""
        out: list[str] = []
        runs = self.fmt.runs(cp, cp + len(text)) if self.fmt else [(cp, cp + len(text), (False, False))]
        for start, end, (bold, italic) in runs:
            buf: list[str] = []
            segment = text[start - cp: end - cp]
            if not (self.fields and not self.fields[-1]["shown"]) and not SPECIAL.search(segment):
                buf.append(segment)  # the common case: plain characters, no per-character work
                segment = ""
            for ch in segment:
                if ch in (FIELD_BEGIN, FIELD_SEP, FIELD_END):
                    _emit(out, buf, bold, italic)
                    self.field(ch, out)
                elif self.fields and not self.fields[-1]["shown"]:
                    self.fields[-1]["instr"].append(ch)
                elif ch == "\x0c":
                    _emit(out, buf, bold, italic)
                    out.append(BREAK)
                elif ch == "\x0b":
                    _emit(out, buf, bold, italic)
                    out.append("  \n")
                elif ch not in DROP:
                    buf.append("-" if ch == "\x1e" else ch)
            _emit(out, buf, bold, italic)
        return "".join(out)

    def field(self, ch: str, out: list[str]) -> None:
        if ch == FIELD_BEGIN:
            self.fields.append({"instr": [], "shown": False, "mark": None, "para": self.para_no})
        elif ch == FIELD_SEP and self.fields:
            self.fields[-1].update(shown=True, mark=len(out), para=self.para_no)
        elif ch == FIELD_END and self.fields:
            field = self.fields.pop()
            m = LINK.match("".join(field["instr"]))
            if m and field["mark"] is not None and field["para"] == self.para_no:
                label = "".join(out[field["mark"]:]).strip()
                url = ("#" if m.group(1) else "") + m.group(2)
                if label:
                    out[field["mark"]:] = [f"[{label}](<{url.replace('>', '%3E')}>)"]


def _emit(out: list[str], buf: list[str], bold: bool, italic: bool) -> None:
    if not buf:
        return
    text = md.escape("".join(buf))
    buf.clear()
    core = text.strip()
    if core and (bold or italic):
        mark = "***" if bold and italic else "**" if bold else "*"
        text = text[: len(text) - len(text.lstrip())] + mark + core + mark + text[len(text.rstrip()):]
    out.append(text)


def markdown(doc: DocText, parts: list[Story], texts: dict[str, Any]) -> str:
    """``text.md``: the main text as Markdown, then each other story under a heading of its label."""
    main = next((s for s in parts if s.key == "main"), None)
    out = [Writer(doc, main).write() if main is not None else ""]
    for story in parts:
        if story.key == "main":
            continue
        if story.key == "headers":
            items = [f"{h['kind'].capitalize()} ({h['which']}, section {h['section']}): {h['text']}"
                     for h in texts.get("headers_footers", [])]
        else:
            items = texts.get(story.key, [])
        if items:
            out.append(f"\n---\n\n## {story.label}\n\n" + "\n\n".join(md.escape(t) for t in items) + "\n")
    return "".join(out)
