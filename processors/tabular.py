"""Column statistics accumulated chunk by chunk, so memory stays flat whatever the table's size.

Counts, nulls, min and max are exact (integers as integers, ISO dates and date-times as dates);
mean and standard deviation are merged exactly across chunks (Chan's parallel formula); distinct
counts are exact up to a cap and then a lower bound (the count reached, ``distinct_exact: false``);
quantiles come from a bounded reservoir sample (exact while the column fits in it); top values
from a bounded counter (exact unless it had to be pruned). Each summary says which.
"""
from __future__ import annotations

import datetime
import math
import re
import warnings
from collections import Counter
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

DISTINCT_CAP = 10_000
SAMPLE_SIZE = 10_000
TOP_VALUES = 10
COUNTER_CAP = 50_000
BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


class ColumnStats:
    def __init__(self, name: str, seed: int = 0):
        self.name = name
        self.count = 0
        self.nulls = 0
        self.kinds: Counter[str] = Counter()
        self.integers = True
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.min: Any = None
        self.max: Any = None
        self.sample = np.empty(0)
        self.seen_numbers = 0
        self.rng = np.random.default_rng(seed)
        self.distinct: set = set()
        self.distinct_overflow = False
        self.distinct_reached = 0
        self.has_time = False
        self.top: Counter = Counter()
        self.top_pruned = False
        self.text_min_len: int | None = None
        self.text_max_len = 0

    def feed(self, series: pd.Series) -> None:
        total = len(series)
        mask = series.isna().to_numpy()  # once: on string columns every isna is a Python-level pass
        nulls = int(mask.sum())
        self.nulls += nulls
        values = series[~mask] if nulls else series
        self.count += total - nulls
        if values.empty:
            return
        if pd.api.types.is_bool_dtype(values):
            self.kinds["boolean"] += len(values)
            self._count_values(values)
            return
        numbers = values if pd.api.types.is_numeric_dtype(values) else None
        if numbers is None and pd.api.types.is_datetime64_any_dtype(values):
            self.kinds["datetime"] += len(values)
            self._minmax(values.min(), values.max())
            if not self.distinct_overflow:  # as for numbers: past the cap, counting each stamp is all cost
                self._count_values(values)
            else:
                self.top_pruned = True  # the top values saw only the first chunks
            return
        if numbers is None:
            text = values.astype(str)
            if "text" in self.kinds:  # once text, always text: skip the costly conversions
                self._text(text)
                return
            # a sample decides cheaply for most text columns; the whole chunk confirms the rest
            head = text.iloc[:500].str.strip()
            if "number" not in self.kinds and head.str.fullmatch(ISO_DATE).all() and self._dates(text):
                return
            maybe_bool = head.str.lower().isin(BOOL_WORDS).all()
            if not maybe_bool and pd.to_numeric(head, errors="coerce").isna().any():
                self._text(text)
                return
            lowered = text.str.strip().str.lower()
            if maybe_bool and lowered.isin(BOOL_WORDS).all():
                self.kinds["boolean"] += len(values)
                self._count_values(lowered)
                return
            converted = pd.to_numeric(text.str.strip(), errors="coerce")
            if converted.notna().all():
                numbers = converted
            else:
                self._text(text)
                return
        arr = numbers.to_numpy(dtype="float64", na_value=np.nan)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            return
        self.kinds["number"] += arr.size
        if self.integers and not np.all(np.floor(arr) == arr):
            self.integers = False
        self._moments(arr)
        self._minmax(float(arr.min()), float(arr.max()))
        self._reservoir(arr)
        if not self.distinct_overflow:  # past 10,000 distinct numbers, counting each is all cost, no use
            self._count_values(numbers)

    def _dates(self, text: pd.Series) -> bool:
        """ISO dates or date-times (``2024-01-01``, ``2024-01-01 10:00:00``) as dates, once the
        chunk's first values all look like one; False when some value of the chunk is not one."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):
            return False
        if not pd.api.types.is_datetime64_any_dtype(parsed) or parsed.isna().any():
            return False  # mixed time zones, a 2024-02-30, or text
        head = text.iloc[:500]
        self.has_time = self.has_time or bool((head.str.len() > 10).any()) or bool(
            (parsed != parsed.dt.normalize()).any())
        self.kinds["datetime"] += len(parsed)
        self._minmax(parsed.min(), parsed.max())
        self._count_values(text)
        return True

    def _text(self, text: pd.Series) -> None:
        self.kinds["text"] += len(text)
        keys = text.tolist()
        lengths = list(map(len, keys))
        self.text_min_len = min(self.text_min_len if self.text_min_len is not None else 1 << 62, min(lengths))
        self.text_max_len = max(self.text_max_len, max(lengths))
        self._count_values(text, keys)

    def _moments(self, arr: np.ndarray) -> None:
        n_b = arr.size
        mean_b = float(arr.mean())
        m2_b = float(((arr - mean_b) ** 2).sum())
        n_a = self.n
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * n_a * n_b / n
        self.n = n

    def _minmax(self, lo: Any, hi: Any) -> None:
        try:
            self.min = lo if self.min is None or lo < self.min else self.min
            self.max = hi if self.max is None or hi > self.max else self.max
        except TypeError:  # values of different kinds across chunks
            pass

    def _reservoir(self, arr: np.ndarray) -> None:
        """Algorithm R over a chunk, vectorised: each value is kept with probability k / seen."""
        k = SAMPLE_SIZE
        start = self.seen_numbers
        self.seen_numbers += arr.size
        if self.sample.size < k:
            take = min(k - self.sample.size, arr.size)
            self.sample = np.concatenate([self.sample, arr[:take]])
            arr = arr[take:]
            start += take
        if arr.size == 0:
            return
        positions = np.arange(start + 1, start + arr.size + 1)
        slots = (self.rng.random(arr.size) * positions).astype(np.int64)
        keep = slots < k
        self.sample[slots[keep]] = arr[keep]

    def _count_values(self, values: pd.Series, keys: list | None = None) -> None:
        """Distinct values and their counts. Text is counted over a list (a set and
        ``Counter.update``, in C); numbers, booleans and date-times by pandas first, so a chunk of
        200,000 distinct prices is never turned into Python objects one by one."""
        if keys is None and values.dtype != object:
            self._count_array(values)
            return
        keys = _keys(values) if keys is None else keys
        if not self.distinct_overflow:
            self.distinct.update(keys)
            if len(self.distinct) > DISTINCT_CAP:
                self._overflow(len(self.distinct))
        self.top.update(keys)
        if len(self.top) > COUNTER_CAP:
            self._prune()

    def _count_array(self, values: pd.Series) -> None:
        counts = values.value_counts(sort=False)
        if not self.distinct_overflow:
            if len(counts) > DISTINCT_CAP:
                self._overflow(max(len(self.distinct), len(counts)))
            else:
                self.distinct.update(_keys(counts.index))
                if len(self.distinct) > DISTINCT_CAP:
                    self._overflow(len(self.distinct))
        if len(counts) > COUNTER_CAP // 2:
            counts = counts.nlargest(COUNTER_CAP // 2)  # C-speed pruning of a very diverse chunk
            self.top_pruned = True
        self.top.update(dict(zip(_keys(counts.index), counts.tolist(), strict=True)))
        if len(self.top) > COUNTER_CAP:
            self._prune()

    def _overflow(self, reached: int) -> None:
        self.distinct_overflow = True  # the count reached is a lower bound from now on
        self.distinct_reached = reached
        self.distinct = set()

    def _prune(self) -> None:
        """Keep the likeliest top values: drop those seen once, then the least frequent."""
        self.top_pruned = True
        top = {k: c for k, c in self.top.items() if c > 1}
        if len(top) > COUNTER_CAP // 2:
            top = dict(sorted(top.items(), key=itemgetter(1), reverse=True)[:COUNTER_CAP // 2])
        self.top = Counter(top)

    @property
    def kind(self) -> str:
        if not self.kinds:
            return "empty"
        if len(self.kinds) > 1 and "text" in self.kinds:
            return "text"
        kind = self.kinds.most_common(1)[0][0]
        if kind == "number":
            return "integer" if self.integers else "float"
        return kind

    def summary(self) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "distinct": self.distinct_reached if self.distinct_overflow else len(self.distinct),
            "distinct_exact": not self.distinct_overflow,
        }
        if self.kind in ("integer", "float"):
            std = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else None
            qs = np.quantile(self.sample, [0.25, 0.5, 0.75]).tolist() if self.sample.size else [None] * 3
            lo, hi = (self.min, self.max) if self.kind == "float" else (_integer(self.min), _integer(self.max))
            out.update({
                "min": lo, "max": hi, "mean": self.mean if self.n else None, "std": std,
                "quantiles": {"p25": qs[0], "p50": qs[1], "p75": qs[2]},
                "quantiles_exact": self.seen_numbers <= SAMPLE_SIZE,
            })
        elif self.kind == "datetime":
            out.update({"type": "datetime" if self.has_time or not _midnight(self.min, self.max) else "date",
                        "min": _when(self.min, self.has_time), "max": _when(self.max, self.has_time)})
        if self.kind in ("text", "boolean", "datetime") or (self.kind == "integer" and not self.distinct_overflow
                                                                    and len(self.distinct) <= 50):
            out["top_values"] = [{"value": _plain(v), "count": int(c)} for v, c in self.top.most_common(TOP_VALUES)]
            out["top_values_exact"] = not self.top_pruned
        if self.kind == "text":
            out["min_length"] = self.text_min_len
            out["max_length"] = self.text_max_len
        return out


def _keys(values: pd.Series | pd.Index) -> list:
    """The values as dictionary keys; date-times as ``datetime`` (numpy makes those in C, where
    pandas makes a ``Timestamp`` per value, ten times slower)."""
    if pd.api.types.is_datetime64_dtype(values.dtype):
        keys = values.to_numpy().astype("datetime64[us]").tolist()
        if keys and isinstance(keys[0], datetime.datetime):
            return keys
    return values.tolist()


def _integer(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _midnight(*values: Any) -> bool:
    return all(isinstance(v, pd.Timestamp) and v == v.normalize() for v in values if v is not None)


def _when(value: Any, has_time: bool) -> Any:
    """A date as ``2024-01-01``, a date-time as ``2024-01-01T10:00:00`` (its ISO form)."""
    if not isinstance(value, pd.Timestamp):
        return value
    return value.isoformat() if has_time or value != value.normalize() else value.date().isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime.datetime)):
        return value.isoformat()
    return value


class TableStats:
    """Statistics for the columns of one table, fed DataFrame chunks with the same columns."""

    def __init__(self, names: list[str]):
        self.columns = [ColumnStats(name, seed=i) for i, name in enumerate(names)]
        self.rows = 0

    def feed(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)
        for i, stats in enumerate(self.columns):
            if i < frame.shape[1]:
                stats.feed(frame.iloc[:, i])

    def summaries(self) -> list[dict]:
        return [c.summary() for c in self.columns]


SUMMARY_FIELDS = ("name", "type", "count", "nulls", "distinct", "distinct_exact", "min", "max", "mean", "std",
                  "p25", "p50", "p75", "quantiles_exact", "top_values")


def summary_rows(summaries: list[dict]) -> list[list[Any]]:
    """Rows for ``columns.csv``: one per column, the header first."""
    rows: list[list[Any]] = [list(SUMMARY_FIELDS)]
    for s in summaries:
        q = s.get("quantiles") or {}
        top = "; ".join(f"{t['value']} ({t['count']})" for t in s.get("top_values", [])[:5])
        rows.append([s.get("name"), s.get("type"), s.get("count"), s.get("nulls"), s.get("distinct"),
                     s.get("distinct_exact"), s.get("min"), s.get("max"), s.get("mean"), s.get("std"),
                     q.get("p25"), q.get("p50"), q.get("p75"), s.get("quantiles_exact"), top])
    return rows
