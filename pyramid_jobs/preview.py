"""The job page's preview of a job's ``text.md``, rendered on the server.

Rendering here keeps the page free of scripts and of anything from another host (its
Content-Security-Policy allows neither). The Markdown comes from processors, built-in or not, so
it is treated as untrusted: raw HTML is shown as text, link targets pass markdown-it's check
(no ``javascript:``, ``vbscript:``, ``file:`` or ``data:`` links) and carry ``rel="nofollow
noreferrer"``, and images are not rendered (a picture from another host would be blocked anyway).
Only the first ``PREVIEW_BYTES`` are rendered, so a page view costs a bounded amount of work; the
rendered text is cached for the file's size and modification time.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

PREVIEW_NAME = "text.md"
PREVIEW_BYTES = 64_000


@dataclass(frozen=True)
class Preview:
    html: Markup
    truncated: bool  # only the first PREVIEW_BYTES were rendered


def markdown_preview(path: Path) -> Preview | None:
    """The rendered preview of the Markdown file at ``path`` (None when it is gone)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _render(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _render(path: str, size: int, mtime_ns: int) -> Preview | None:
    try:
        with open(path, "rb") as f:
            data = f.read(PREVIEW_BYTES + 1)
    except OSError:
        return None
    truncated = len(data) > PREVIEW_BYTES
    if truncated:  # end at a line, so a table or a paragraph is not cut mid-way
        data = data[:PREVIEW_BYTES]
        data = data[:data.rfind(b"\n") + 1] or data
    return Preview(html=Markup(_markdown().render(data.decode("utf-8", "replace"))), truncated=truncated)


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt  # imported when a page first shows a preview, not at start

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"]).disable("image")

    def link_open(renderer: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


__all__ = ["PREVIEW_BYTES", "PREVIEW_NAME", "Preview", "markdown_preview"]
