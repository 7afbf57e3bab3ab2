"""Where a PDF's page text comes from: PDFium for every page it can open, pypdf for the rest.

PDFium (pypdfium2) reads text 10-30x faster than pypdf and tolerates more damage, but gives
right-to-left scripts in visual order, with stray glyphs where the font maps shaped Arabic
forms badly; pypdf gives them in logical order. So a PDFium page holding Hebrew or Arabic letters
is read again by pypdf. Files PDFium cannot open (a broken page tree) or that hold a stream past
the decompression limit (PDFium has none) are read by pypdf alone, under its limits.

Both sources answer :class:`PageText` per page; hygiene (processors/pdftext.py) comes after.
"""
from __future__ import annotations

import contextvars
import ctypes
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .pdfmeta import safe
from .pdftext import has_rtl

#: The reason given for a page PDFium could not open.
UNOPENED = "the page could not be opened"


@dataclass
class PageText:
    """One page as read: raw text, or why it was skipped; the facts the result reports per page."""

    text: str = ""
    skipped: str | None = None
    engine: str = "pdfium"
    rotation: int = 0
    width: float | None = None
    height: float | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    #: counts images only when asked (a page with little text), to keep the common path cheap
    images: int | None = None


class PdfiumSource:
    """Pages read by PDFium; ``fallback(i)`` (pypdf's text of page ``i``, or None) serves right-to-left pages."""

    engine = "pdfium"

    def __init__(self, doc: Any, fallback: Any = None):
        self.doc = doc
        self.fallback = fallback
        self.count = len(doc)

    def read(self, index: int, want_images: Any) -> PageText:
        """Page ``index``; ``want_images(text)`` says whether to count its images (for OCR detection)."""
        try:
            page = self.doc[index]
        except Exception:
            return PageText(skipped=UNOPENED)
        try:
            textpage = page.get_textpage()
            try:
                entry = PageText(text=textpage.get_text_range(), rotation=safe(page.get_rotation, 0) or 0)
                box = safe(page.get_mediabox)
                if box:
                    entry.width, entry.height = round(box[2] - box[0], 1), round(box[3] - box[1], 1)
                entry.links = _links(self.doc, page, textpage)
            finally:
                textpage.close()
            if has_rtl(entry.text) and self.fallback is not None:
                logical = self.fallback(index)
                if logical and logical.strip():
                    entry.text, entry.engine = logical, "pypdf"
            if want_images(entry.text):
                import pypdfium2.raw as pdfium_c

                entry.images = sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4))
            return entry
        except Exception:  # one damaged page does not lose the others
            return PageText(skipped="the page could not be read: it looks damaged")
        finally:
            page.close()

    def close(self) -> None:
        self.doc.close()


def _links(doc: Any, page: Any, textpage: Any, limit: int = 200) -> list[tuple[str, str]]:
    """(text under the link, URI) for the page's link annotations with a URI action."""
    import pypdfium2.raw as pdfium_c

    out: list[tuple[str, str]] = []
    pos, link = ctypes.c_int(0), pdfium_c.FPDF_LINK()
    while len(out) < limit and pdfium_c.FPDFLink_Enumerate(page, ctypes.byref(pos), ctypes.byref(link)):
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
            continue
        size = pdfium_c.FPDFAction_GetURIPath(doc, action, None, 0)
        if not 0 < size <= 4096:
            continue
        buf = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(doc, action, buf, size)
        rect = pdfium_c.FS_RECTF()
        text = ""
        if pdfium_c.FPDFLink_GetAnnotRect(link, ctypes.byref(rect)):
            text = safe(lambda r=rect: textpage.get_text_bounded(r.left, r.bottom, r.right, r.top), "") or ""
        out.append((" ".join(text.split()), buf.value.decode("latin-1")))
    return out


class SharedPypdf:
    """pypdf's reader of the file, opened by whichever thread needs it first, used by one thread at
    a time (pypdf is not thread-safe): the caller reads the metadata while the reading thread reads
    the first pages with PDFium, and a right-to-left page among them waits for the caller.

    Use as ``with shared as reader:`` (None when pypdf cannot parse the file)."""

    def __init__(self, open_reader: Callable[[], Any]):
        self._open = open_reader
        self._opened = False
        self._reader: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Any:
        self._lock.acquire()
        try:
            if not self._opened:
                self._reader, self._opened = self._open(), True
        except BaseException:
            self._lock.release()
            raise
        return self._reader

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class PypdfSource:
    """Pages read by pypdf: its page tree, or the pages recovered from a broken one."""

    engine = "pypdf"

    def __init__(self, pages: list[Any]):
        self.pages = pages
        self.count = len(pages)

    def read(self, index: int, want_images: Any) -> PageText:
        from pypdf.errors import LimitReachedError

        page = self.pages[index]
        entry = PageText(engine="pypdf")
        try:
            entry.text = page.extract_text() or ""
        except LimitReachedError:
            entry.skipped = "a stream on this page decompresses past the size limit"
        except RecursionError:
            entry.skipped = "the page's objects refer to each other in a loop"
        except Exception:  # one damaged page does not lose the others
            entry.skipped = "the page could not be read: it looks damaged"
        entry.rotation = safe(lambda: int(page.rotation), 0)
        entry.width = safe(lambda: round(float(page.mediabox.width), 1))
        entry.height = safe(lambda: round(float(page.mediabox.height), 1))
        if want_images(entry.text):
            entry.images = _pypdf_images(page)
        return entry

    def close(self) -> None:
        pass


def _pypdf_images(page: Any) -> int:
    """Images drawn on the page (XObjects, and inline images), counted without decoding them."""
    images = 0
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        xobjects = resources.get("/XObject")
        if xobjects is not None:
            for ref in xobjects.get_object().values():
                if ref.get_object().get("/Subtype") == "/Image":
                    images += 1
        if not images:
            contents = page.get_contents()
            data = contents.get_data() if contents is not None else b""
            images += len(re.findall(rb"(?:^|\s)BI\s", data))
    except Exception:
        pass
    return images


class read_ahead:  # noqa: N801 (used as a function: ``with read_ahead(...) as pages``)
    """``(index, PageText)`` for every page in order, read by one thread ahead of the caller.

    PDFium releases the GIL while it lays out a page, so hygiene, Markdown and progress for one
    page run while the next is being read: on two cores the processor then costs little more than
    PDFium alone. The thread starts on entering the ``with``, so the caller can do other work (pypdf's
    metadata) while the first pages are read; leaving it stops and joins the thread. All PDFium calls
    of the extraction happen in that one thread (PDFium is not thread-safe; the caller makes none
    inside the ``with``)."""

    def __init__(self, source: Any, want_images: Callable[[str], bool], depth: int = 8):
        self._source, self._want, self._pages = source, want_images, queue.Queue(depth)
        self._stop = threading.Event()
        self._finished = False
        # the caller's context: pypdf's decompression limits (a ContextVar) hold in the reader too
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._work,),
                                        name="pdf-pages", daemon=True)

    def _work(self) -> None:
        try:
            for index in range(self._source.count):
                if self._stop.is_set():
                    break
                self._pages.put((index, self._source.read(index, self._want)))
        except BaseException as exc:  # handed to the caller, raised there
            self._pages.put((-1, exc))
        finally:
            self._pages.put(None)

    def __enter__(self) -> Iterator[tuple[int, PageText]]:
        self._thread.start()
        return self._iterate()

    def _iterate(self) -> Iterator[tuple[int, PageText]]:
        while True:
            item = self._pages.get()
            if item is None:
                self._finished = True
                return
            index, value = item
            if isinstance(value, BaseException):
                raise value
            yield index, value

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while not self._finished:  # unblock the reader so that it sees ``stop`` and ends
            self._finished = self._pages.get() is None
        self._thread.join()
