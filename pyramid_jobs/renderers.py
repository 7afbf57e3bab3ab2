"""Strict JSON: no NaN or Infinity, dates as ISO 8601, decimals, UUIDs, numpy and pandas values.

Processors return results built from pandas and numpy; :func:`to_jsonable` turns them into
plain JSON values once, in the worker, so the store and every client see strict JSON.
"""
from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def _iso(value: datetime.datetime | datetime.date | datetime.time) -> str:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    return value.isoformat()


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types; non-finite floats and missing values become ``None``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(v) for v in value), key=repr)
    for types, convert in _SCALARS:
        if isinstance(value, types):
            return convert(value)
    if type(value).__module__.split(".")[0] in ("numpy", "pandas"):  # without importing them
        return _from_numpy(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _datetime(value: datetime.datetime | datetime.date | datetime.time) -> str | None:
    # pandas.NaT is a datetime subclass whose isoformat() is 'NaT'
    return None if str(value) == "NaT" else _iso(value)


#: Scalar types in the order they are tried (an int subclass before float, a datetime before its
#: ``date`` base), each with its conversion.
_SCALARS: tuple[tuple[type | tuple[type, ...], Any], ...] = (
    (int, int),
    (float, lambda v: v if math.isfinite(v) else None),
    ((datetime.datetime, datetime.date, datetime.time), _datetime),
    (datetime.timedelta, lambda v: v.total_seconds()),
    (decimal.Decimal, lambda v: float(v) if v.is_finite() else None),
    (uuid.UUID, lambda v: v.hex),
    (PurePath, str),
    (bytes, lambda v: v.decode("utf-8", "replace")),
)


def _from_numpy(value: Any) -> Any:
    """numpy and pandas scalars and arrays: missing values become ``None``."""
    if str(value) in ("NaT", "<NA>", "nan"):
        return None
    if hasattr(value, "isoformat"):
        return _iso(value.to_pydatetime()) if hasattr(value, "to_pydatetime") else value.isoformat()
    if hasattr(value, "tolist"):
        return to_jsonable(value.tolist())
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any, **kw: Any) -> str:
    return json.dumps(to_jsonable(value), allow_nan=False, ensure_ascii=False, **kw)


class StrictJSON:
    """Pyramid renderer factory registered as ``pyramid_jobs.json``; leaves the host's ``json`` alone."""

    def __init__(self, info: Any = None):
        self.info = info

    def __call__(self, value: Any, system: dict) -> str:
        request = system.get("request")
        if request is not None:
            response = request.response
            if response.content_type == response.default_content_type:
                response.content_type = "application/json"
        return dumps(value, separators=(",", ":"))
