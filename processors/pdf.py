"""The pdf processor (pypdf): metadata, encryption, outline, form fields, text per page.

Every stream is decompressed under ``ctx.limits.max_stream_size``; a page whose stream hits the
limit is reported as such, never as blank (pypdf may silently return '' then: FORMATS.md).
"""
from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits

SEPARATOR = "\n\f"  # form feed between pages, as pdftotext writes
OCR_THRESHOLD = 10  # fewer visible characters than this on a page with images: needs OCR


class _Warnings(logging.Handler):
    """Counts pypdf's warnings (one per font on many real PDFs) instead of letting them reach the logs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(record.getMessage()[:200])


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value][:20]
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in list(value.items())[:20]}
    return str(value)[:1000]


class PdfProcessor(Processor):
    name = "pdf"
    limits = builtin_limits.PDF
    result_template = "processors:templates/pdf.jinja2"
    extensions = (".pdf",)
    media_types = ("application/pdf",)
    steps = ("Open", "Extract text", "Summarise")
    description = ("PDF: page count, version, metadata, encryption, outline, form fields, text per page "
                   "and the pages that need OCR.")
    options = (Option("password", str, help="the PDF's user password, when it has one", secret=True),)

    def sniff(self, head: bytes) -> bool:
        return b"%PDF-" in head[:1024]

    def process(self, ctx: Any) -> dict:
        import pypdf
        from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

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
                return self._process(ctx, pypdf, caught)
        except ProcessingError:
            raise
        except FileNotDecryptedError:
            raise ProcessingError("encrypted", "The PDF is encrypted; pass its password as the option `password`.") \
                from None
        except LimitReachedError as exc:
            raise ProcessingError("too_large", f"The PDF holds more data than this service reads ({exc}).") from None
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError, AssertionError, OSError, UnicodeError, ZeroDivisionError) as exc:
            raise ProcessingError("corrupt_file", f"The PDF could not be read: it looks damaged "
                                                  f"({type(exc).__name__}: {str(exc)[:200]}).") from None
        finally:
            pypdf_log.removeHandler(caught)
            pypdf_log.propagate = propagate

    def _process(self, ctx: Any, pypdf: Any, caught: _Warnings) -> dict:
        from pypdf.errors import LimitReachedError

        limits = ctx.limits
        with ctx.step("Open", total=4) as step:
            if ctx.path.stat().st_size == 0:
                raise ProcessingError("empty_file", "The file is empty.")
            reader = pypdf.PdfReader(str(ctx.path), strict=False)
            step.advance(message="opened")
            encryption = None
            if reader.is_encrypted:
                password = ctx.options.get("password")
                if password is not None and not isinstance(password, str):
                    raise ProcessingError("bad_option", "The option `password` must be a string.")
                result = reader.decrypt(password or "")
                if not result:
                    if password:
                        raise ProcessingError("encrypted", "The password given in the option `password` is wrong.")
                    raise ProcessingError("encrypted", "The PDF is encrypted with a user password; pass it as the "
                                                       "option `password`.")
                encryption = {"encrypted": True, "opened_with": "password" if password else "empty user password",
                              "algorithm": _text(reader.trailer["/Encrypt"].get_object().get("/Filter"))}
            step.advance(message="decrypted" if encryption else "not encrypted")
            count = len(reader.pages)
            if count > limits.max_pages:
                raise ProcessingError("too_large", f"The PDF has {count} pages; the limit is {limits.max_pages}.")
            info = self._info(reader)
            step.advance(message="metadata")
            outline = self._outline(reader)
            fields = self._fields(reader)
            step.advance(message="outline and fields")

        pages: list[dict] = []
        preview_left = limits.preview_chars
        preview: list[str] = []
        with ctx.step("Extract text", total=count) as step, \
                open(ctx.artifact("text.txt"), "w", encoding="utf-8") as text_out:
            for number, page in enumerate(reader.pages, start=1):
                entry: dict[str, Any] = {"page": number}
                text = ""
                try:
                    text = page.extract_text() or ""
                except LimitReachedError:
                    entry["skipped"] = "a stream on this page decompresses past the size limit"
                except RecursionError:
                    entry["skipped"] = "the page's objects refer to each other in a loop"
                except Exception as exc:  # one damaged page does not lose the others
                    entry["skipped"] = f"the page could not be read ({type(exc).__name__})"
                visible = sum(1 for c in text if not c.isspace())
                images = self._page_images(page)
                entry.update({
                    "characters": len(text),
                    "visible_characters": visible,
                    "images": images,
                    "needs_ocr": "skipped" not in entry and visible < OCR_THRESHOLD and images > 0,
                    "rotation": _safe(lambda p=page: int(p.rotation), 0),
                    "width": _safe(lambda p=page: round(float(p.mediabox.width), 1)),
                    "height": _safe(lambda p=page: round(float(p.mediabox.height), 1)),
                })
                pages.append(entry)
                if number > 1:
                    text_out.write(SEPARATOR)
                text_out.write(text)
                if preview_left > 0 and text:
                    preview.append(text[:preview_left])
                    preview_left -= len(preview[-1])
                step.advance(message=f"page {number} of {count}")

        with ctx.step("Summarise", total=1) as step:
            with open(ctx.artifact("pages.json"), "w", encoding="utf-8") as f:
                json.dump(pages, f, ensure_ascii=False, indent=1)
            total_chars = sum(p["characters"] for p in pages)
            result = {
                "pages": count,
                "pdf_version": (reader.pdf_header or "").replace("%PDF-", "") or None,
                "encryption": encryption or {"encrypted": False},
                "info": info["info"],
                "xmp": info["xmp"],
                "outline": outline,
                "form_fields": fields,
                "characters": total_chars,
                "words": None,
                "pages_needing_ocr": [p["page"] for p in pages if p["needs_ocr"]],
                "pages_skipped": [{"page": p["page"], "reason": p["skipped"]} for p in pages if "skipped" in p],
                "per_page": [{"page": p["page"], "characters": p["characters"], "needs_ocr": p["needs_ocr"]}
                             for p in pages[:1000]],
                "preview": "".join(preview),
                "warnings": caught.count,
            }
            result["words"] = _count_words(ctx.out_dir / "text.txt")
            step.advance()
        return result

    @staticmethod
    def _info(reader: Any) -> dict:
        info: dict[str, Any] = {}
        meta = _safe(lambda: reader.metadata)
        if meta:
            for key in ("title", "author", "subject", "creator", "producer", "creation_date", "modification_date"):
                value = _safe(lambda k=key: getattr(meta, k))
                if value:
                    info[key] = _text(value)
            keywords = _safe(lambda: meta.get("/Keywords"))
            if keywords:
                info["keywords"] = _text(keywords)
        xmp: dict[str, Any] = {}
        x = _safe(lambda: reader.xmp_metadata)
        if x is not None:
            for key in ("dc_title", "dc_creator", "dc_description", "dc_subject", "dc_date", "pdf_producer",
                        "pdf_keywords", "xmp_create_date", "xmp_modify_date", "xmp_creator_tool"):
                value = _safe(lambda k=key: getattr(x, k))
                if value:
                    xmp[key] = _text(value)
        return {"info": info, "xmp": xmp or None}

    @staticmethod
    def _outline(reader: Any, limit: int = 500) -> list[dict]:
        out: list[dict] = []

        def walk(items: Any, level: int) -> None:
            for item in items:
                if len(out) >= limit or level > 20:
                    return
                if isinstance(item, list):
                    walk(item, level + 1)
                    continue
                page = _safe(lambda i=item: reader.get_destination_page_number(i))
                out.append({"title": _text(_safe(lambda i=item: i.title)) or "", "level": level,
                            "page": page + 1 if isinstance(page, int) and page >= 0 else None})

        walk(_safe(lambda: reader.outline, []) or [], 1)
        return out

    @staticmethod
    def _fields(reader: Any, limit: int = 500) -> list[dict]:
        fields = _safe(lambda: reader.get_fields(), {}) or {}
        kinds = {"/Tx": "text", "/Btn": "button", "/Ch": "choice", "/Sig": "signature"}
        out = []
        for name, field in list(fields.items())[:limit]:
            value = field.get("/V") if hasattr(field, "get") else None
            out.append({"name": _text(name), "type": kinds.get(str(field.get("/FT")), _text(field.get("/FT"))),
                        "value": _text(value.get_object() if hasattr(value, "get_object") else value)})
        return out

    @staticmethod
    def _page_images(page: Any) -> int:
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


def _safe(fn: Any, default: Any = None) -> Any:
    """Metadata is decoration: a damaged entry must not fail the job."""
    try:
        return fn()
    except Exception:
        return default


def _count_words(path: Any) -> int:
    words = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            words += len(line.split())
    return words


@hookimpl
def jobs_register_processors():
    return [PdfProcessor()]
