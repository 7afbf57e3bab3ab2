from __future__ import annotations

import time

import pytest

from pyramid_jobs import JobCancelled, JobTimeLimit
from pyramid_jobs.context import JobContext, check_artifact_name
from pyramid_jobs.progress import Progress, percent_of


def test_percent_formula():
    assert percent_of(1, 4, 0, 10) == 0
    assert percent_of(2, 4, 37, 120) == pytest.approx(((2 - 1) + 37 / 120) / 4 * 100, abs=0.01)
    assert percent_of(4, 4, 5, 5) == 100
    assert percent_of(2, 2, 50, None) == 50  # no total: the step counts from its start
    assert percent_of(1, 2, 20, 10) == 50  # over-counting never passes the step's share


def test_throttle_a_million_advances(tmp_path):
    writes = []
    ctx = JobContext(tmp_path / "f", out_dir=tmp_path, steps=("Count",), sink=lambda s: writes.append(s) or False,
                     interval=0.05)
    started = time.monotonic()
    with ctx.step("Count", total=1_000_000) as step:
        for _ in range(1_000_000):
            step.advance()
    elapsed = time.monotonic() - started
    assert len(writes) <= elapsed / 0.05 + 3, "at most one write per interval, plus the step's boundaries"
    assert ctx.progress.snapshot()["current"] == 1_000_000 and ctx.progress.snapshot()["percent"] == 100
    assert all(a["percent"] <= b["percent"] for a, b in zip(writes, writes[1:], strict=False))


def test_every_call_written_when_interval_is_zero(tmp_path):
    writes = []
    ctx = JobContext(tmp_path / "f", out_dir=tmp_path, steps=("A",), sink=lambda s: writes.append(s) or False,
                     interval=0)
    with ctx.step("A", total=3) as step:
        for _ in range(3):
            step.advance()
    assert [w["current"] for w in writes] == [0, 1, 2, 3, 3]


def test_steps_must_be_declared_and_in_order(tmp_path):
    ctx = JobContext(tmp_path / "f", out_dir=tmp_path, steps=("A", "B"))
    with pytest.raises(ValueError, match="not one of"):
        with ctx.step("C"):
            pass
    with ctx.step("B"):
        pass
    with pytest.raises(ValueError, match="declared order"):
        with ctx.step("A"):
            pass


def test_cancel_stops_at_next_progress_call(tmp_path):
    answers = iter([False, False, True])
    ctx = JobContext(tmp_path / "f", out_dir=tmp_path, steps=("A",), sink=lambda s: next(answers), interval=0)
    with pytest.raises(JobCancelled):
        with ctx.step("A", total=10) as step:
            step.advance()
            step.advance()
    assert ctx.cancelled


def test_deadline_raises_time_limit(tmp_path):
    now = [0.0]
    p = Progress(("A",), None, interval=0, deadline=5.0, clock=lambda: now[0])
    p.begin("A", 3)
    now[0] = 6.0
    with pytest.raises(JobTimeLimit):
        p.flush()


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "x" * 200, "a\x00b", "c:\\x"])
def test_artifact_names_cannot_escape(name):
    with pytest.raises(ValueError):
        check_artifact_name(name)


def test_artifact_paths_stay_in_out_dir(tmp_path):
    ctx = JobContext(tmp_path / "f", out_dir=tmp_path / "out", steps=("A",))
    p = ctx.artifact("text.txt")
    assert p.parent == tmp_path / "out"
