"""Optical character recognition with Tesseract, through tesserocr (Tesseract's C++ API in process).

tesserocr's wheel carries the Tesseract library; the language data (``*.traineddata``) comes from
the system (Debian's ``tesseract-ocr-eng`` and friends), or only from ``TESSDATA_PREFIX`` when set. OCR is available
when both are there. Listing languages reads the data folder and never imports tesserocr, so the
web process can check ``ocr_languages`` and list processors without loading the engine.

One :class:`Recogniser` per job keeps the language models loaded across pages: loading them
costs more than a small page does.
"""
from __future__ import annotations

import importlib.util
import os
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: where Debian, Fedora and source builds put the language data, after ``TESSDATA_PREFIX``
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")
#: data files that are no recognition language (orientation and script detection, equations)
NOT_LANGUAGES = frozenset({"osd", "equ"})
DEFAULT_LANGUAGES = "eng"
#: under this mean confidence a page is checked for lying turned (upside down, sideways)
LOW_CONFIDENCE = 60
#: Tesseract's orientation confidence needed to try the turned page (the better reading wins anyway)
MIN_ORIENTATION_CONFIDENCE = 1.0
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Recognition:
    """What Tesseract read on one image: its text and its mean word confidence (0-100)."""

    text: str
    confidence: int
    #: degrees (counter-clockwise) the image was turned to read it upright, when it lay turned
    turned: int = 0


def _candidates() -> list[Path]:
    """``TESSDATA_PREFIX`` when set (Tesseract's own rule: it then looks nowhere else), else the usual places."""
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        return [Path(prefix), Path(prefix) / "tessdata"]
    return [Path(d) for d in TESSDATA_DIRS]


def tessdata() -> str | None:
    """The folder holding Tesseract's language data, or ``None`` when none is installed.

    Looked up at each call (a listing of a few folders), so languages installed later are seen."""
    for folder in _candidates():
        try:
            if any(f.suffix == ".traineddata" for f in folder.iterdir()):
                return str(folder)
        except OSError:
            continue
    return None


@lru_cache(maxsize=1)
def _engine_installed() -> bool:
    return importlib.util.find_spec("tesserocr") is not None


def installed_data() -> set[str]:
    """Names of the Tesseract data files installed (languages, and ``osd`` for orientation)."""
    folder = tessdata()
    if folder is None or not _engine_installed():
        return set()
    names = {f.name[: -len(".traineddata")] for f in Path(folder).iterdir() if f.name.endswith(".traineddata")}
    return {n for n in names if _NAME.match(n)}


def languages() -> list[str]:
    """The recognition languages Tesseract has installed (``eng``, ``chi_sim``...), sorted."""
    return sorted(installed_data() - NOT_LANGUAGES)


@lru_cache(maxsize=1)
def _engine_load_error() -> str | None:
    try:
        import tesserocr  # noqa: F401
    except (ImportError, OSError) as exc:  # the wheel's library needs the system's libgomp, for one
        return f"{type(exc).__name__}: {exc}"
    return None


def unavailable_reason(*, load: bool = False) -> str | None:
    """Why OCR cannot run here, in words for the user, or ``None`` when it can.

    Without ``load`` (the web process, listings) nothing is imported; with it (a job about to
    recognise) the engine is loaded too, so a package that is there but cannot load is caught."""
    if not _engine_installed():
        return "OCR is not installed: the tesserocr package is missing."
    if not languages():
        return "OCR is not installed: Tesseract has no language data (install tesseract-ocr-eng)."
    if load and _engine_load_error():
        return "OCR is not installed: the Tesseract library does not load on this machine."
    return None


def available(*, load: bool = False) -> bool:
    """Whether OCR can run in this process (``load``: see :func:`unavailable_reason`)."""
    return unavailable_reason(load=load) is None


def capabilities() -> dict:
    """What ``GET /jobs/processors`` says about OCR for a processor that uses it."""
    reason = unavailable_reason()
    out: dict[str, Any] = {"available": reason is None, "engine": "tesseract", "languages": languages()}
    if reason:
        out["reason"] = reason
    return out


def check_languages(value: Any) -> str:
    """``value`` as Tesseract's language string (``eng+chi_sim``), or ``ValueError`` saying what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("The option `ocr_languages` must name languages, e.g. 'eng' or 'eng+chi_sim'.")
    parts = [p.strip() for p in value.split("+")]
    installed = languages()
    wrong = [p for p in parts if p not in installed]
    if wrong:
        raise ValueError(f"Tesseract has no language {', '.join(map(repr, wrong))} here; installed: "
                         f"{', '.join(installed) or 'none'}.")
    return "+".join(parts)


class Recogniser:
    """Tesseract loaded once for ``languages``; :meth:`recognise` reads one image at a time.

    Use it as a context manager (the engine's memory is freed on exit). Raises ``RuntimeError``
    when OCR is not available; check :func:`available` first.
    """

    def __init__(self, languages: str = DEFAULT_LANGUAGES):
        reason = unavailable_reason(load=True)
        if reason:
            raise RuntimeError(reason)
        import tesserocr

        self.languages = check_languages(languages)
        # the Debian data is the "fast" LSTM set; OEM default picks LSTM where a model has it
        self._api = tesserocr.PyTessBaseAPI(path=tessdata(), lang=self.languages)
        self._api.SetVariable("debug_file", os.devnull)  # resolution guesses and the like, not for our logs
        self.version = " ".join(tesserocr.tesseract_version().split()[:2])  # "tesseract 5.5.4"
        self._osd: Any = None

    def recognise(self, image: Any, dpi: float | None = None) -> Recognition:
        """Text and mean confidence of a Pillow image; ``dpi`` when known helps Tesseract size the glyphs.

        A page read with low confidence may lie turned (a scan fed upside down, a landscape page):
        Tesseract's orientation detection (``osd`` data) then says by how much, and the turned page
        is read again; the better reading wins."""
        image = _for_tesseract(image)
        first = self._read(image, dpi)
        if first.confidence >= LOW_CONFIDENCE:
            return first
        turn = self._orientation(image)
        if not turn:
            return first
        from PIL import Image

        turned = image.transpose({90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                                  270: Image.Transpose.ROTATE_270}[turn])
        second = self._read(turned, dpi)
        if second.confidence > first.confidence:
            return Recognition(second.text, second.confidence, turn)
        return first

    def _orientation(self, image: Any) -> int:
        """Degrees to turn ``image`` counter-clockwise to stand it upright (0 when unknown or upright)."""
        if "osd" not in installed_data():
            return 0
        import tesserocr

        if self._osd is None:
            self._osd = tesserocr.PyTessBaseAPI(path=tessdata(), lang="osd", psm=tesserocr.PSM.OSD_ONLY)
            self._osd.SetVariable("debug_file", os.devnull)
        try:
            self._osd.SetImage(image)
            found = self._osd.DetectOrientationScript() or {}
        except RuntimeError:  # too little text to tell
            return 0
        finally:
            self._osd.Clear()
        turn = found.get("orient_deg", 0)
        return turn if turn in (90, 180, 270) and found.get("orient_conf", 0) >= MIN_ORIENTATION_CONFIDENCE else 0

    def _read(self, image: Any, dpi: float | None) -> Recognition:
        api = self._api
        api.SetImage(image)
        if dpi and 50 <= dpi <= 2400:
            api.SetSourceResolution(int(round(dpi)))
        text = api.GetUTF8Text() or ""
        confidence = int(api.MeanTextConf()) if text.strip() else 0
        api.Clear()
        return Recognition(_tidy(text), max(confidence, 0))

    def close(self) -> None:
        self._api.End()
        if self._osd is not None:
            self._osd.End()

    def __enter__(self) -> Recogniser:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Budget:
    """Whether there is time for one more page before the job's deadline (``ctx.progress.deadline``).

    OCR takes seconds a page: a long scan would run past the time limit and fail whole. Stopping
    while twice the slowest page so far (plus a reserve for the last steps) still fits lets the
    job succeed with the pages read, the rest reported as not recognised."""

    RESERVE = 3.0

    def __init__(self, ctx: Any):
        progress = getattr(ctx, "progress", None)
        self.deadline: float | None = getattr(progress, "deadline", None)
        self.slowest = 0.0
        self._started = time.monotonic()

    def allows_another(self) -> bool:
        now = time.monotonic()
        return self.deadline is None or self.deadline - now >= 2 * self.slowest + self.RESERVE

    def page_done(self) -> None:
        now = time.monotonic()
        self.slowest = max(self.slowest, now - self._started)
        self._started = now


TIME_LIMIT_REASON = ("not recognised: the job's time limit would have passed (raise jobs.time_limit, "
                     "or send fewer pages)")


def recognise(image: Any, languages: str = DEFAULT_LANGUAGES, dpi: float | None = None) -> tuple[str, int]:
    """One image's ``(text, mean_confidence)``; for many images keep a :class:`Recogniser` instead."""
    with Recogniser(languages) as engine:
        found = engine.recognise(image, dpi)
    return found.text, found.confidence


def _for_tesseract(image: Any) -> Any:
    """Tesseract reads 1-bit, grey and RGB pixels; palette, alpha, 16-bit and CMYK images are converted."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if image.mode in ("LA", "RGBA", "PA") or (image.mode == "P" and "transparency" in image.info):
        from PIL import Image

        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # transparent means paper, not black
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("RGB")


def _tidy(text: str) -> str:
    """Tesseract ends pages with a form feed and pads lines; keep the words and paragraph breaks."""
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
