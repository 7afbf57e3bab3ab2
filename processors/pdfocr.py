"""OCR for PDF pages: which pages to read, rendering them with PDFium, reading them with Tesseract.

The pdf processor decides per page whether the text layer is usable (``needs_ocr``); this module
turns the ``ocr`` option into the list of pages to recognise, renders each at 300 dpi in grey
(fewer if the page is so large that it would pass ``max_image_pixels``), and reads it with one
Tesseract engine kept for the whole document. Each page is one unit of the "Recognise text" step.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from pyramid_jobs import Option, ProcessingError

from . import ocr
from .image import languages_option, ocr_languages

MODES = ("auto", "always", "never")
STEP = "Recognise text"
RENDER_DPI = 300
MIN_DPI = 72


def options() -> tuple[Option, Option]:
    """The ``ocr`` and ``ocr_languages`` options, for a processor's ``options``."""
    mode = Option("ocr", str, default="auto", choices=MODES,
                  help="auto: recognise pages with no usable text; always: every page (its text replaces the "
                       "text layer); never")
    return mode, languages_option()


def mode_of(ctx: Any) -> str:
    mode = ctx.options.get("ocr") or "auto"
    if mode not in MODES:
        raise ProcessingError("bad_option", f"The option `ocr` must be one of {', '.join(MODES)}.")
    return mode


def pages_to_read(mode: str, pages: Iterable[dict]) -> list[int]:
    """Page numbers to recognise: ``auto`` those flagged ``needs_ocr``, ``always`` all that were read."""
    if mode == "never":
        return []
    if mode == "always":
        return [p["page"] for p in pages if "skipped" not in p]
    return [p["page"] for p in pages if p.get("needs_ocr")]


def render_dpi(width_pt: float, height_pt: float, max_pixels: int) -> float:
    """300 dpi, or less for a page that would pass ``max_pixels`` (a PDF page may be 200 inches wide)."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / (72 * 72)  # square inches
    fit = math.sqrt(max_pixels / area)
    return min(RENDER_DPI, fit)


def capabilities() -> dict:
    return {"ocr": ocr.capabilities()}


def check_options(ctx: Any) -> None:
    """Refuse a bad ``ocr`` or ``ocr_languages`` before any page is read (``bad_option``)."""
    mode_of(ctx)
    ocr_languages(ctx)


def run(ctx: Any, source: Any, pages: list[dict], separator: str) -> dict:
    """The "Recognise text" step of the pdf processor, after its "Extract text".

    Recognises the pages the ``ocr`` option asks for, puts their text in place of the page's in
    ``text.txt`` and ``text.md``, updates their entries in ``pages`` (words, characters, an ``ocr``
    entry; ``needs_ocr`` becomes false), and answers the result's ``ocr`` entry: ``available`` as
    ``GET /jobs/processors`` says it, and when a page is to be read, also whether Tesseract's
    library loads here. ``source`` is the processor's page source: only a PDFium one can render (a
    file PDFium does not open, or should not, keeps its pages unread)."""
    mode = mode_of(ctx)
    languages = ocr_languages(ctx)
    wanted = pages_to_read(mode, pages)
    # Tesseract's library is loaded (6 ms, once per process) only when a page is to be read by it
    reason = ocr.unavailable_reason(load=bool(wanted))
    doc = getattr(source, "doc", None) if getattr(source, "engine", None) == "pdfium" else None
    with ctx.step(STEP, total=len(wanted) if wanted and not reason else 1) as step:
        if not wanted or reason:
            step.advance(message="no page to recognise" if not wanted else reason)
            found: dict[int, ocr.Recognition | str] = {}
        elif doc is None:
            found = {n: "the file is read without PDFium here, which renders pages" for n in wanted}
            step.advance(message="pages cannot be rendered")
        else:
            found = _recognise(ctx, doc, wanted, languages, step)
    read = {n: r for n, r in found.items() if isinstance(r, ocr.Recognition)}
    if read:
        _apply(ctx, pages, read, separator)
    return describe(found, mode, languages, reason)


def _recognise(ctx: Any, doc: Any, numbers: list[int], languages: str, step: Any) -> dict:
    out: dict[int, ocr.Recognition | str] = {}
    budget = ocr.Budget(ctx)
    with ocr.Recogniser(languages) as engine:
        for i, number in enumerate(numbers, start=1):
            if not budget.allows_another():
                out[number] = ocr.TIME_LIMIT_REASON
            else:
                out[number] = _read(doc, number, engine, ctx.limits.max_image_pixels, ctx)
                budget.page_done()
            step.advance(message=f"page {number} ({i} of {len(numbers)})")
    return out


def _read(pdf: Any, number: int, engine: ocr.Recogniser, max_pixels: int, ctx: Any) -> ocr.Recognition | str:
    page = None
    try:
        page = pdf[number - 1]
        width, height = page.get_size()
        dpi = render_dpi(width, height, max_pixels)
        if dpi < MIN_DPI:
            return f"the page is too large to render at {MIN_DPI} dpi within the pixel limit"
        image = page.render(scale=dpi / 72, grayscale=True, draw_annots=True).to_pil()
    except Exception as exc:  # a damaged page does not lose the others
        ctx.log.info("job %s: page %d not rendered for OCR: %r", ctx.job_id, number, exc)
        return "the page could not be rendered"
    finally:
        if page is not None:
            page.close()
    return engine.recognise(image, dpi)


def _apply(ctx: Any, pages: list[dict], read: dict[int, ocr.Recognition], separator: str) -> None:
    """Recognised text in place of the text layer: in the page entries and both text artifacts."""
    from .pdfmarkdown import page_markdown
    from .words import count_words

    for entry in pages:
        found = read.get(entry["page"])
        if found is None:
            continue
        entry.update({"characters": len(found.text), "words": count_words(found.text), "needs_ocr": False,
                      "ocr": {"confidence": found.confidence, **({"turned": found.turned} if found.turned else {})}})
    path = ctx.artifact("text.txt")
    texts = path.read_text(encoding="utf-8").split(separator)  # page text never holds a form feed (pdftext.clean)
    for number, found in read.items():
        if number <= len(texts):
            texts[number - 1] = found.text
    path.write_text(separator.join(texts), encoding="utf-8")
    path = ctx.artifact("text.md")
    if path.exists():
        parts = _MD_PAGE.split(path.read_text(encoding="utf-8"))  # ["", "1", page 1, "2", page 2...]
        chunks = {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
        out = []
        for number in sorted(chunks):
            if number in read:
                out.append(page_markdown(read[number].text, number))
            else:
                out.append(("\n---\n\n" if number > 1 else "") + f"<!-- page {number} -->\n\n" + chunks[number])
        path.write_text("".join(out), encoding="utf-8")


def preview(ctx: Any, separator: str) -> str:
    """The result's preview once recognised text is in ``text.txt``: its start, pages run together."""
    limit = ctx.limits.preview_chars
    with open(ctx.artifact("text.txt"), encoding="utf-8") as f:
        return f.read(limit + limit // 4).replace(separator, "")[:limit]


#: the page marker processors/pdfmarkdown.py opens each page with (page text is escaped: ``<`` never starts one)
_MD_PAGE = re.compile(r"(?:\n---\n\n)?<!-- page (\d+) -->\n\n")


def describe(found: dict[int, ocr.Recognition | str], mode: str, languages: str, reason: str | None) -> dict:
    """The result's ``ocr`` entry: what was asked, what was read with what confidence, what could not be."""
    from .words import count_words

    out: dict[str, Any] = {"mode": mode, "available": reason is None, "languages": languages}
    if reason:
        out["reason"] = reason
        return out
    read = {n: r for n, r in found.items() if isinstance(r, ocr.Recognition)}
    words = {n: count_words(r.text) for n, r in read.items()}
    total = sum(words.values())
    out.update({
        "pages_recognised": [{"page": n, "confidence": r.confidence, "words": words[n],
                              **({"turned": r.turned} if r.turned else {})} for n, r in read.items()],
        "pages_failed": [{"page": n, "reason": r} for n, r in found.items() if isinstance(r, str)],
        "mean_confidence": round(sum(r.confidence * words[n] for n, r in read.items()) / total, 1) if total else None,
    })
    return out
