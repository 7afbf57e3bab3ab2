"""Numbers, sizes, dates and durations as a person reads them on the pages.

Results hold raw values (``1137000.0``, ``646``, ``2026-11-01T09:00:00``); the pages show
``1,137,000``, ``646 bytes``, ``2026-11-01 09:00``. Kept here, apart from the templates, so
every page and every processor's result template formats the same way.
"""
from __future__ import annotations

import datetime
import math
from typing import Any

from jinja2 import pass_context

from .uploads import human_size

DASH = "–"


def number(value: Any) -> str:
    """Thousands separators, about four significant digits, never scientific notation."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if not math.isfinite(value):
        return DASH
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    digits = 1 if magnitude >= 100 else min(12, 3 - math.floor(math.log10(magnitude)))
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def size(value: Any) -> str:
    """Bytes in decimal units: ``646 bytes``, ``1.2 kB``, ``3.4 MB``."""
    if value is None:
        return DASH
    return human_size(float(value)) if value != 1 else "1 byte"


def _parse(value: str) -> datetime.datetime | datetime.date | None:
    text = value.strip()
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            return None


def date(value: Any) -> str:
    """An ISO 8601 date or time as ``2026-11-01`` or ``2026-11-01 09:00`` (``UTC`` when it has a zone)."""
    if value is None or value == "":
        return ""
    parsed = _parse(value) if isinstance(value, str) else value
    if isinstance(parsed, datetime.datetime):
        zone = ""
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(datetime.UTC)
            zone = " UTC"
        if not zone and parsed.time() == datetime.time(0):
            return parsed.date().isoformat()
        fmt = "%Y-%m-%d %H:%M:%S" if parsed.second else "%Y-%m-%d %H:%M"
        return parsed.strftime(fmt) + zone
    if isinstance(parsed, datetime.date):
        return parsed.isoformat()
    return str(value)


def duration(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 5 s``, ``2 h 1 min``."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def between(start: str | None, end: str | None) -> float | None:
    """Seconds between two ISO 8601 timestamps of a job record, or None if one is missing."""
    a, b = (_parse(start) if start else None), (_parse(end) if end else None)
    if not isinstance(a, datetime.datetime) or not isinstance(b, datetime.datetime):
        return None
    return max(0.0, (b - a).total_seconds())


@pass_context
def _size_in_context(context: Any, value: Any) -> str:
    """``jobs_size`` in a template: "bytes" in the page's language (kB and MB read the same everywhere)."""
    ngettext = context.get("_n")
    if ngettext is not None and value is not None and float(value) < 1000:
        return ngettext("${n} byte", "${n} bytes", int(value))
    return size(value)


FILTERS = {"jobs_number": number, "jobs_size": _size_in_context, "jobs_date": date, "jobs_duration": duration}
