"""Numbers, sizes, dates and durations as the pages show them."""
from __future__ import annotations

import pytest

from pyramid_jobs.humanize import between, date, duration, number, size


@pytest.mark.parametrize("value,shown", [
    (1137000.0, "1,137,000"), (1137000.5, "1,137,000.5"), (2274001, "2,274,001"), (5.843333, "5.843"),
    (0.8280, "0.828"), (-12.5, "-12.5"), (1e-7, "0.0000001"), (123456.789, "123,456.8"), (0.0, "0"),
    (None, "–"), (True, "yes"), (float("nan"), "–"), (float("inf"), "–"), ("text", "text"), (10**20, f"{10**20:,}"),
])
def test_numbers_without_scientific_notation(value, shown):
    assert number(value) == shown
    assert "e+" not in number(value) and "e-" not in number(value)


@pytest.mark.parametrize("value,shown", [(646, "646 bytes"), (1, "1 byte"), (0, "0 bytes"), (1234, "1.2 kB"),
                                         (100_000_000, "100 MB"), (None, "–")])
def test_sizes(value, shown):
    assert size(value) == shown


@pytest.mark.parametrize("value,shown", [
    ("2026-11-01T09:00:00", "2026-11-01 09:00"), ("2026-11-01T00:00:00", "2026-11-01"), ("2026-11-01", "2026-11-01"),
    ("2026-11-24T15:00:07.123Z", "2026-11-24 15:00:07 UTC"), ("2026-11-24T16:00:00+01:00", "2026-11-24 15:00 UTC"),
    ("not a date", "not a date"), (None, ""),
])
def test_dates(value, shown):
    assert date(value) == shown


def test_durations():
    assert [duration(s) for s in (0.42, 12.4, 185, 7300)] == ["0.4 s", "12 s", "3 min 5 s", "2 h 1 min"]
    assert between("2026-11-24T15:00:00.000Z", "2026-11-24T15:00:02.500Z") == 2.5
    assert between("2026-11-24T15:00:00.000Z", None) is None
