"""The pdf processor: page text through PDFium, metadata through pypdf, text and Markdown artifacts.

Page text comes from PDFium (pypdfium2): the engine Chrome ships, many times faster than pypdf
and tolerant of damage. pypdf reads what PDFium does not give well (Info dates, XMP, form fields,
the encryption dictionary, attachments), right-to-left pages (logical order), and the files PDFium
cannot open or should not (a broken page tree, a stream past the decompression limit), where
pages are recovered by scanning the objects. See docs/processors/pdf.md.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import pdfmeta, pdfocr, warmup
from .pdfmarkdown import page_markdown
from .pdfpages import UNOPENED, PdfiumSource, PypdfSource, SharedPypdf, read_ahead
from .pdfstreams import oversized_stream
from .pdftext import clean, usable_characters, word_count

SEPARATOR = "\n\f"  # form feed between pages, as pdftotext writes
OCR_THRESHOLD = 10  # fewer usable characters than this on a page with images: needs OCR
log = logging.getLogger(__name__)


def needs_text(text: str) -> bool:
    """Whether a page with this text has too little usable text to be read without OCR.

    Asked in the reading thread for every page: a page whose first lines hold enough usable
    characters (each character counts 0 or 1) is answered without counting the rest."""
    return usable_characters(text[:200]) < OCR_THRESHOLD and usable_characters(text) < OCR_THRESHOLD


def pages_without_text(pages: Sequence[dict]) -> list[int]:
    """Page numbers that have no usable text layer but draw images: the pages OCR should read.

    ``pages`` are the entries of ``pages.json`` (``page``, ``visible_characters``, ``images``,
    ``skipped``). A page with neither text nor images is blank, not a scan; a skipped page is
    reported as skipped. This is the hook for OCR: it needs nothing but the per-page entries."""
    return [p["page"] for p in pages if "skipped" not in p and p.get("images")
            and p.get("visible_characters", 0) < OCR_THRESHOLD]


class _Warnings(logging.Handler):
    """Counts pypdf's warnings (one per font on many real PDFs) instead of letting them reach the logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class PdfProcessor(Processor):
    name = "pdf"
    limits = builtin_limits.PDF
    result_template = "processors:templates/pdf.jinja2"
    extensions = (".pdf",)
    media_types = ("application/pdf",)
    steps = ("Open", "Extract text", pdfocr.STEP, "Summarise")
    description = ("PDF: page count, version, metadata, encryption, outline, form fields, attachments, text per "
                   "page (text.txt, text.md) and the pages that need OCR.")
    options = (
        Option("password", str, help="the PDF's user password, when it has one", secret=True),
        Option("join_hyphens", bool, default=True, help="join words hyphenated at a line end"),
        *pdfocr.options(),
    )

    def capabilities(self) -> dict:
        return pdfocr.capabilities()

    def sniff(self, head: bytes) -> bool:
        return b"%PDF-" in head[:1024]

    def warm(self) -> None:
        warmup.load("pypdf", "pypdf.errors", "pypdfium2", "pypdfium2.raw", "processors.pdfrecover",
                     "tesserocr", "PIL.Image")
        warmup.load_words()

    def process(self, ctx: Any) -> dict:
        import pypdf
        from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

        if ctx.path.stat().st_size == 0:
            raise ProcessingError("empty_file", "The file is empty.")
        limits = ctx.limits
        caught = _Warnings()
        pypdf_log = logging.getLogger("pypdf")
        pypdf_log.addHandler(caught)
        propagate, pypdf_log.propagate = pypdf_log.propagate, False
        config = pypdf.apply_configuration(
            zlib_maximum_output_length=limits.max_stream_size,
            lzw_maximum_output_length=limits.max_stream_size,
            run_length_maximum_output_length=limits.max_stream_size,
            array_based_stream_maximum_output_length=limits.max_stream_size,
        )
        try:
            with config:
                return self._process(ctx, caught)
        except ProcessingError:
            raise
        except FileNotDecryptedError:
            raise ProcessingError("encrypted", "The PDF is encrypted; pass its password as the option `password`.") \
                from None
        except DependencyError:
            log.warning("job %s: pypdf lacks a dependency", ctx.job_id, exc_info=True)
            raise ProcessingError("encrypted", "The PDF uses an encryption this installation cannot open (the "
                                               "`cryptography` package is missing).") from None
        except LimitReachedError:
            raise ProcessingError("too_large", "The PDF holds more data than this service reads.") from None
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError, AssertionError, OSError, UnicodeError, ZeroDivisionError):
            log.warning("job %s: the PDF could not be read", ctx.job_id, exc_info=True)
            raise ProcessingError("corrupt_file", "The PDF could not be read: it looks damaged.") from None
        finally:
            pypdf_log.removeHandler(caught)
            pypdf_log.propagate = propagate

    @staticmethod
    def _options(ctx: Any) -> tuple[str | None, bool]:
        password = ctx.options.get("password")
        if password is not None and not isinstance(password, str):
            raise ProcessingError("bad_option", "The option `password` must be a string.")
        join = ctx.options.get("join_hyphens", True)
        if not isinstance(join, bool):
            raise ProcessingError("bad_option", "The option `join_hyphens` must be true or false.")
        pdfocr.check_options(ctx)
        return password or None, join

    def _process(self, ctx: Any, caught: _Warnings) -> dict:
        password, join = self._options(ctx)
        with ctx.step("Open", total=3) as step:
            pypdf = SharedPypdf(lambda: _pypdf_reader(ctx, password))
            source, opened = _open(ctx, pypdf, password)
            step.advance(message="opened")
            try:
                if source.count > ctx.limits.max_pages:
                    raise ProcessingError("too_large",
                                          f"The PDF has {source.count} pages; the limit is {ctx.limits.max_pages}.")
                doc = opened.get("doc")
                # PDFium's outline before its pages are read (PDFium serves one thread at a time);
                # pypdf's facts while they are read, unless pypdf reads the pages itself
                outline = _pdfium_outline(doc) if doc is not None else None
                facts = _facts(pypdf, opened, outline) if doc is None else {}
                step.advance(message="outline")
                with read_ahead(source, needs_text) as reading:
                    facts = facts or _facts(pypdf, opened, outline)
                    step.advance(message="metadata, fields and attachments")
                    pages, preview = self._extract(ctx, reading, source.count, facts["outline"], join)
                facts["ocr"] = pdfocr.run(ctx, source, pages, SEPARATOR)
                if facts["ocr"].get("pages_recognised"):
                    preview = pdfocr.preview(ctx, SEPARATOR)
            finally:
                source.close()
        return self._summarise(ctx, pages, preview, facts, caught)

    @staticmethod
    def _extract(ctx: Any, reading: Any, count: int, outline: list[dict], join: bool) -> tuple[list[dict], str]:
        """Per-page entries and the preview from ``reading`` (:func:`read_ahead`); page text goes
        to the artifacts as it is read."""
        preview, left = [], ctx.limits.preview_chars
        titles: dict[int, list[tuple[str, int]]] = {}
        for entry in outline:
            if entry["page"]:
                titles.setdefault(entry["page"], []).append((entry["title"], entry["level"]))
        pages: list[dict] = []
        with ctx.step("Extract text", total=count) as step, \
                open(ctx.artifact("text.txt"), "w", encoding="utf-8") as text_out, \
                open(ctx.artifact("text.md"), "w", encoding="utf-8") as md_out:
            for index, read in reading:
                number = index + 1
                text = clean(read.text, join_hyphens=join)
                if number > 1:
                    text_out.write(SEPARATOR)
                text_out.write(text)
                md_out.write(page_markdown(text, number, titles.get(number, ()), read.links))
                entry: dict[str, Any] = {"page": number, "characters": len(text),
                                         "visible_characters": usable_characters(text), "words": word_count(text),
                                         "images": read.images, "rotation": read.rotation,
                                         "width": read.width, "height": read.height, "engine": read.engine}
                if read.skipped:
                    entry["skipped"] = read.skipped
                entry["needs_ocr"] = bool(pages_without_text([entry]))
                if left > 0 and text:
                    preview.append(text[:left])
                    left -= len(preview[-1])
                pages.append(entry)
                step.advance(message=f"page {number} of {count}")
        if pages and all(p.get("skipped") == UNOPENED for p in pages):
            raise ProcessingError("corrupt_file", "No page of this PDF could be opened: it looks damaged.")
        return pages, "".join(preview)

    @staticmethod
    def _summarise(ctx: Any, pages: list[dict], preview: str, facts: dict, caught: _Warnings) -> dict:
        with ctx.step("Summarise", total=1) as step:
            # one page a line: json's C encoder (indent= takes the pure-Python one, 4x slower)
            lines = ",\n".join(json.dumps(p, ensure_ascii=False) for p in pages)
            ctx.artifact("pages.json").write_text(f"[\n{lines}\n]\n" if pages else "[]\n", encoding="utf-8")
            engines: dict[str, int] = {}
            for p in pages:
                engines[p["engine"]] = engines.get(p["engine"], 0) + 1
            result = {
                "pages": len(pages),
                **facts,
                "characters": sum(p["characters"] for p in pages),
                "words": sum(p["words"] for p in pages),
                "pages_needing_ocr": [p["page"] for p in pages if p["needs_ocr"]],
                "pages_skipped": [{"page": p["page"], "reason": p["skipped"]} for p in pages if "skipped" in p],
                "per_page": [{"page": p["page"], "characters": p["characters"], "needs_ocr": p["needs_ocr"]}
                             for p in pages[:1000]],
                "text_engines": engines,
                "preview": preview,
                "warnings": caught.count,
            }
            step.advance()
        return result


def _pypdf_reader(ctx: Any, password: str | None) -> Any:
    """A pypdf reader, decrypted when the file is encrypted and the password opens it; None when
    pypdf cannot parse the file at all (PDFium may still)."""
    import pypdf
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(str(ctx.path), strict=False)
    except Exception:
        log.info("job %s: pypdf cannot parse the file", ctx.job_id, exc_info=True)
        return None
    if reader.is_encrypted:
        try:
            reader.decrypt(password or "")
        except DependencyError:
            log.warning("job %s: pypdf cannot decrypt without `cryptography`", ctx.job_id)
        except Exception:
            log.info("job %s: pypdf cannot decrypt", ctx.job_id, exc_info=True)
    return reader


def _open(ctx: Any, pypdf: SharedPypdf, password: str | None) -> tuple[Any, dict]:
    """The page source (PDFium when it can, else pypdf) and how the file was opened. pypdf parses
    the file here only when PDFium does not open it."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = None
    if oversized_stream(ctx.path, ctx.limits.max_stream_size) is None:
        try:
            doc = pdfium.PdfDocument(str(ctx.path), password=password)
        except pdfium.PdfiumError as exc:
            # PDFium's last-error code is not reset by every failure: trust it only for encrypted files
            with pypdf as reader:
                code = exc.err_code if _is_encrypted(ctx.path, reader) else None
            if code == pdfium_c.FPDF_ERR_PASSWORD:
                if password:
                    raise ProcessingError("encrypted", "The password given in the option `password` is wrong.") \
                        from None
                raise ProcessingError("encrypted", "The PDF is encrypted with a user password; pass it as the "
                                                   "option `password`.") from None
            if code == pdfium_c.FPDF_ERR_SECURITY:
                raise ProcessingError("encrypted", "The PDF uses an encryption scheme this service does not "
                                                   "support.") from None
            log.info("job %s: PDFium cannot open the file (error %s)", ctx.job_id, exc.err_code)
    if doc is not None and len(doc) > 0:
        encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(doc) != -1
        version = doc.get_version()
        return PdfiumSource(doc, _right_to_left(pypdf, len(doc))), {
            "encrypted": encrypted, "version": f"{version // 10}.{version % 10}" if version else None, "doc": doc}
    if doc is not None:
        doc.close()
    with pypdf as reader:
        return _pypdf_source(ctx, reader, password), {"encrypted": bool(reader.is_encrypted), "version": None}


def _is_encrypted(path: Any, reader: Any) -> bool:
    """Whether the file is encrypted: pypdf's answer, or an /Encrypt key when pypdf cannot parse it."""
    if reader is not None:
        return bool(pdfmeta.safe(lambda: reader.is_encrypted, False))
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 65536))
        return b"/Encrypt" in f.read()


def _right_to_left(pypdf: SharedPypdf, count: int) -> Any:
    """``index -> pypdf's text of the page`` (or None), for right-to-left pages, asked in the reading
    thread; pypdf's page tree is read only when first asked, and used only when it holds the same
    number of pages as PDFium's."""
    same: list[bool] = []

    def text(index: int) -> str | None:
        with pypdf as reader:
            if reader is None:
                return None
            if not same:
                same.append(pdfmeta.safe(lambda: len(reader.pages)) == count)
            return pdfmeta.safe(lambda: reader.pages[index].extract_text()) if same[0] else None

    return text


def _pypdf_source(ctx: Any, reader: Any, password: str | None) -> PypdfSource:
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    from .pdfrecover import recover_pages

    if reader is None:
        raise ProcessingError("corrupt_file", "The PDF could not be read: it looks damaged.")
    if reader.is_encrypted and not reader.is_decrypted:  # pypdf could not open what PDFium would not
        raise FileNotDecryptedError("not decrypted")
    try:
        pages = list(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError):  # NotImplementedError: a damaged filter name, such as /Flate£ecode
        log.info("job %s: the page tree is broken; scanning the objects for pages", ctx.job_id, exc_info=True)
        pages = recover_pages(reader, ctx.limits.max_pages)
    if not pages:
        raise ProcessingError("corrupt_file", "The PDF could not be read: no page could be found in it.")
    return PypdfSource(pages)


def _facts(pypdf: SharedPypdf, opened: dict, outline: list[dict] | None) -> dict:
    """Version, encryption, metadata, outline (PDFium's when given), form fields and attachments."""
    with pypdf as reader:
        return _pypdf_facts(reader, opened, outline)


def _pypdf_facts(reader: Any, opened: dict, outline: list[dict] | None) -> dict:
    meta = pdfmeta.info(reader) if reader is not None else {"info": {}, "xmp": None}
    version = opened["version"] or (pdfmeta.safe(lambda: reader.pdf_header.replace("%PDF-", "")) if reader else None)
    encryption: dict[str, Any] = {"encrypted": bool(opened["encrypted"])}
    if encryption["encrypted"] and reader is not None:
        encryption.update(pdfmeta.encryption(reader))
    if outline is None:
        outline = pdfmeta.outline(reader) if reader is not None else []
    for entry in outline:  # titles match cleaned page text, and obey the same hygiene
        entry["title"] = " ".join(clean(entry["title"]).split())
    return {
        "pdf_version": version or None,
        "encryption": encryption,
        "info": meta["info"],
        "xmp": meta["xmp"],
        "outline": outline,
        "form_fields": pdfmeta.fields(reader) if reader is not None else [],
        "attachments": pdfmeta.attachments(reader) if reader is not None else [],
    }


def _pdfium_outline(doc: Any, limit: int = 500) -> list[dict]:
    out: list[dict] = []
    for mark in pdfmeta.safe(lambda: list(doc.get_toc(max_depth=20)), []) or []:
        if len(out) >= limit:
            break
        dest = pdfmeta.safe(mark.get_dest)
        index = pdfmeta.safe(dest.get_index) if dest is not None else None
        out.append({"title": pdfmeta.safe(mark.get_title, "") or "", "level": mark.level + 1,
                    "page": index + 1 if isinstance(index, int) and index >= 0 else None})
    return out


@hookimpl
def jobs_register_processors():
    return [PdfProcessor()]
