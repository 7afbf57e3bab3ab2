"""``text.md`` for a PDF: page text as Markdown, outline entries found on their page as headings,
page breaks marked, web links kept.

A PDF has no paragraphs or headings, only positioned text; its outline (bookmarks) is the one
structure the author declared. An outline entry becomes a heading only where a line of its page
reads as its title (``Foo`` or a numbered ``2.1 Foo``), so a heading is never invented from a
bookmark whose text is not on the page. Everything else is escaped text (processors/markdown.py).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from .markdown import escape, heading

_NUMBER = re.compile(r"^(?:[A-Z]|\d+(?:\.\d+)*)\.?\s+")
_SAFE_SCHEMES = ("http://", "https://", "mailto:", "ftp://")
#: lines of nothing but whitespace (``str.strip``'s, which is ``\s``) after a line end, and at the start
_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_LEADING_BLANK_LINES = re.compile(r"(?:[^\S\n]*\n)+")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _matches(line: str, title: str) -> bool:
    line, title = _norm(line), _norm(title)
    return bool(title) and (line == title or _norm(_NUMBER.sub("", line, count=1)) == title)


def heading_lines(lines: Sequence[str], titles: Sequence[tuple[str, int]]) -> dict[int, int]:
    """Line index -> heading level for the outline ``titles`` ((title, level), in outline order)
    of one page: each title takes the first matching line after the previous match."""
    found: dict[int, int] = {}
    start = 0
    for title, level in titles:
        for i in range(start, len(lines)):
            if _matches(lines[i], title):
                found[i] = level
                start = i + 1
                break
    return found


def _link(text: str, url: str) -> str:
    target = quote(url, safe=":/?#[]@!$&'*+,;=%~.-_")
    return f"[{text}]({target})"


def _with_links(line: str, links: Sequence[tuple[str, str]], used: set[int]) -> str:
    """``line`` (escaped) with each link's text, where it occurs, made a Markdown link."""
    for i, (text, url) in enumerate(links):
        shown = escape(" ".join(text.split()))
        if i in used or not shown or not url.lower().startswith(_SAFE_SCHEMES):
            continue
        at = line.find(shown)
        if at >= 0:
            used.add(i)
            line = line[:at] + _link(shown, url) + line[at + len(shown):]
    return line


def page_markdown(text: str, number: int, titles: Sequence[tuple[str, int]] = (),
                  links: Sequence[tuple[str, str]] = ()) -> str:
    """One page as Markdown, opened by a page marker (a rule before every page but the first).

    Links whose text is not found on a line are listed after the page."""
    if not titles and not links:  # most pages: escaped text without its blank lines
        head = ("\n---\n\n" if number > 1 else "") + f"<!-- page {number} -->\n\n"
        body = _BLANK_LINES.sub("\n", escape(text) + "\n")
        leading = _LEADING_BLANK_LINES.match(body)
        return head + (body[leading.end():] if leading else body)
    lines = text.split("\n")
    escaped = escape(text).split("\n")  # one pass per page; escaping never adds or removes a line
    levels = heading_lines(lines, titles) if titles else {}
    out = ["\n---\n\n" if number > 1 else "", f"<!-- page {number} -->\n\n"]
    used: set[int] = set()
    for i, line in enumerate(lines):
        if i in levels:
            out.append("\n" + heading(line, levels[i]) + "\n")
        elif line.strip():
            out.append((_with_links(escaped[i], links, used) if links else escaped[i]) + "\n")
    rest = [(t, u) for i, (t, u) in enumerate(links) if i not in used and u.lower().startswith(_SAFE_SCHEMES)]
    if rest:
        out.append("\n" + "".join(f"- {_link(escape(' '.join(t.split())) or escape(u), u)}\n" for t, u in rest))
    return "".join(out)
