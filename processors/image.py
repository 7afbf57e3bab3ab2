"""The image processor: png, jpeg and (multi-page) tiff scans read with Tesseract OCR.

The type is taken from the file's first bytes, never from its name. Each page's size is checked
before its pixels are decoded (``ctx.limits.max_image_pixels``, Pillow's decompression-bomb
guard), so a small file that unpacks to gigapixels fails ``too_large`` instead of filling memory.
Without Tesseract the job still succeeds: the result lists the pages that need OCR and says why
none was done.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyramid_jobs import Option, ProcessingError, Processor, hookimpl

from . import limits as builtin_limits
from . import ocr, warmup
from .markdown import escape, heading
from .words import count_words

SEPARATOR = "\n\f"  # between pages, as the pdf processor writes
#: first bytes of each format read, and the format Pillow reports for it
MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
         (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"))
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg", "TIFF": "image/tiff"}
#: what Pillow raises on a damaged file, besides its own errors
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError,
                 AttributeError)


def image_format(head: bytes) -> str | None:
    """The format named by a file's first bytes, or ``None`` when it is none of png, jpeg, tiff."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    return None


def languages_option() -> Option:
    """The ``ocr_languages`` option, its choices what Tesseract has installed (shared with the pdf processor)."""
    return Option("ocr_languages", str, default=ocr.DEFAULT_LANGUAGES, choices=ocr.languages, separator="+",
                  help="Tesseract languages to read, joined by '+' (e.g. eng+chi_sim)")


def ocr_languages(ctx: Any) -> str:
    """The job's ``ocr_languages``, checked again here: a job may run where other languages are installed."""
    value = ctx.options.get("ocr_languages") or ocr.DEFAULT_LANGUAGES
    if not ocr.available():
        return str(value)
    try:
        return ocr.check_languages(value)
    except ValueError as exc:
        raise ProcessingError("bad_option", str(exc)) from None


@contextmanager
def pixel_guard(limit: int) -> Iterator[None]:
    """Pillow's bomb check at our limit for the duration (it refuses outright at twice its limit)."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_pixels(width: int, height: int, limit: int, page: int | None = None) -> None:
    if width * height > limit:
        where = f"Page {page} of the image" if page else "The image"
        raise ProcessingError("too_large", f"{where} is {width} × {height} pixels ({width * height / 1e6:.3g} "
                                           f"megapixels); the limit is {limit / 1e6:.3g} megapixels.")


class ImageProcessor(Processor):
    name = "image"
    extensions = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff")
    media_types = ("image/png", "image/jpeg", "image/tiff")
    limits = builtin_limits.IMAGE
    steps = ("Open", "Recognise text", "Summarise")
    description = ("Images (png, jpeg, tiff with any number of pages): dimensions, resolution, and the text "
                   "read with Tesseract OCR with its mean confidence.")
    options = (languages_option(),)

    def capabilities(self) -> dict:
        return {"ocr": ocr.capabilities()}

    def sniff(self, head: bytes) -> bool:
        return image_format(head) is not None

    def warm(self) -> None:
        warmup.load("PIL.Image", "PIL.ImageOps", "tesserocr")
        warmup.load_words()

    def process(self, ctx: Any) -> dict:
        if ctx.path.stat().st_size == 0:
            raise ProcessingError("empty_file", "The file is empty.")
        with pixel_guard(ctx.limits.max_image_pixels):
            try:
                return self._process(ctx)
            except ProcessingError:
                raise
            except MemoryError:
                raise ProcessingError("too_large", "The image needs more memory than this service gives a job.") \
                    from None
            except DECODE_ERRORS as exc:
                ctx.log.info("job %s: image not decoded: %r", ctx.job_id, exc)
                raise ProcessingError("corrupt_file", "The image could not be decoded: it looks damaged or "
                                                      "truncated.") from None

    def _process(self, ctx: Any) -> dict:
        from PIL import Image

        with ctx.step("Open", total=1) as step:
            languages = ocr_languages(ctx)
            with open(ctx.path, "rb") as f:
                if image_format(f.read(16)) is None:
                    raise ProcessingError("unsupported_content", "The file is no png, jpeg or tiff image.")
            try:
                image = Image.open(ctx.path)
            except Image.DecompressionBombError:  # Pillow's own refusal, past twice our limit
                limit = ctx.limits.max_image_pixels
                raise ProcessingError("too_large", f"The image has over {2 * limit / 1e6:.3g} megapixels; the limit "
                                                   f"is {limit / 1e6:.3g} megapixels.") from None
            if image.format not in FORMATS:
                raise ProcessingError("unsupported_content", "The file is no png, jpeg or tiff image.")
            check_pixels(image.width, image.height, ctx.limits.max_image_pixels)
            count = getattr(image, "n_frames", 1) or 1
            if count > ctx.limits.max_pages:
                raise ProcessingError("too_large", f"The image has {count} pages; the limit is "
                                                   f"{ctx.limits.max_pages}.")
            step.advance(message=f"{image.format}, {count} page{'s' if count > 1 else ''}")
        pages, texts, engine = self._recognise(ctx, image, count, languages)
        with ctx.step("Summarise", total=1) as step:
            result = summarise(ctx, image.format, pages, texts, languages, engine)
            step.advance()
        return result

    def _recognise(self, ctx: Any, image: Any, count: int, languages: str) -> tuple[list[dict], list[str], str]:
        engine = ocr.Recogniser(languages) if ocr.available(load=True) else None
        budget = ocr.Budget(ctx)
        pages: list[dict] = []
        texts: list[str] = []
        try:
            with ctx.step("Recognise text", total=count) as step:
                for number in range(1, count + 1):
                    image.seek(number - 1)
                    check_pixels(image.width, image.height, ctx.limits.max_image_pixels, number if count > 1 else None)
                    on_time = budget.allows_another()
                    entry, text = read_page(image, number, engine if on_time else None)
                    if engine is not None and not on_time:
                        entry["skipped"] = ocr.TIME_LIMIT_REASON
                    budget.page_done()
                    pages.append(entry)
                    texts.append(text)
                    step.advance(message=f"page {number} of {count}" + ("" if engine else " (OCR not installed)"))
        finally:
            if engine is not None:
                engine.close()
        return pages, texts, engine.version if engine else "tesseract"


def read_page(image: Any, number: int, engine: ocr.Recogniser | None) -> tuple[dict, str]:
    """One page's description, and its text when there is an engine to read it."""
    from PIL import ImageOps

    dpi = _dpi(image)
    entry: dict[str, Any] = {"page": number, "width": image.width, "height": image.height, "mode": image.mode,
                             "dpi": dpi}
    if engine is None:
        return entry, ""
    image.load()
    upright = ImageOps.exif_transpose(image) if image.format in ("JPEG", "MPO", "TIFF") else image
    found = engine.recognise(upright, dpi)
    entry.update({"characters": len(found.text), "words": count_words(found.text), "confidence": found.confidence})
    if found.turned:
        entry["turned"] = found.turned
    return entry, found.text


def summarise(ctx: Any, fmt: str, pages: list[dict], texts: list[str], languages: str, engine: str) -> dict:
    """The result, and the text artifacts when OCR ran."""
    reason = ocr.unavailable_reason(load=True)
    first = pages[0]
    result: dict[str, Any] = {
        "format": fmt, "media_type": FORMATS[fmt], "pages": len(pages),
        "width": first["width"], "height": first["height"], "mode": first["mode"], "dpi": first["dpi"],
        "ocr": {"available": reason is None, "engine": engine, "languages": languages},
    }
    if reason:
        result["ocr"]["reason"] = reason
        result.update({"pages_needing_ocr": [p["page"] for p in pages], "pages_recognised": [], "characters": 0,
                       "words": None, "mean_confidence": None})
        result["per_page"] = pages[:1000]
        return result
    with open(ctx.artifact("text.txt"), "w", encoding="utf-8") as out:
        out.write(SEPARATOR.join(texts))
    with open(ctx.artifact("text.md"), "w", encoding="utf-8") as out:
        out.write(markdown(texts))
    read = [p for p in pages if "skipped" not in p]
    words = sum(p["words"] for p in read)
    result.update({
        "pages_needing_ocr": [p["page"] for p in pages if "skipped" in p],
        "pages_skipped": [{"page": p["page"], "reason": p["skipped"]} for p in pages if "skipped" in p][:1000],
        "pages_recognised": [{"page": p["page"], "confidence": p["confidence"], "words": p["words"],
                              **({"turned": p["turned"]} if "turned" in p else {})} for p in read][:1000],
        "characters": sum(p["characters"] for p in read),
        "words": words,
        "mean_confidence": round(sum(p["confidence"] * p["words"] for p in read) / words, 1) if words else None,
        "per_page": pages[:1000],
        "preview": "\n\n".join(texts)[: ctx.limits.preview_chars],
    })
    return result


def markdown(texts: list[str]) -> str:
    """The recognised text as Markdown: escaped paragraphs, a heading per page when there are several."""
    if len(texts) == 1:
        return escape(texts[0]) + "\n"
    parts = [heading(f"Page {n}", 2) + "\n" + escape(text) + "\n" for n, text in enumerate(texts, start=1)]
    return "\n".join(parts)


def _dpi(image: Any) -> float | None:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    return round(value, 1) if value and value >= 20 else None  # TIFFs without a unit say 1


@hookimpl
def jobs_register_processors():
    return [ImageProcessor()]
