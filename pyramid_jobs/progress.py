"""Step progress: cheap to report, throttled on its way to the store.

A processor may call ``advance`` a million times: each call costs a few attribute updates and a
clock read; the store sees at most one write per ``interval`` seconds, plus one at each step
boundary. Every write also learns whether the job was cancelled, and checks the deadline, so a
cancelled or overdue job stops at its next progress call.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from .errors import JobCancelled, JobTimeLimit

#: Called with a progress snapshot; answers True when the job was cancelled.
Sink = Callable[[dict], bool]


def percent_of(step: int, steps: int, current: float, total: float | None) -> float:
    """``((step - 1) + current / total) / steps * 100``, each declared step an equal share."""
    if steps <= 0 or step <= 0:
        return 0.0
    share = 0.0
    if total:
        share = min(max(current / total, 0.0), 1.0)
    return round(min(((step - 1) + share) / steps * 100.0, 100.0), 2)


class Progress:
    """The state of one job's progress, and the throttle in front of its sink."""

    def __init__(
        self,
        steps: tuple[str, ...] | list[str],
        sink: Sink | None = None,
        *,
        interval: float = 0.5,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.steps = tuple(steps)
        self.sink = sink
        self.interval = interval
        self.deadline = deadline
        self.clock = clock
        self.cancelled = False
        self.step = 0
        self.step_name: str | None = None
        self.current: float = 0
        self.total: float | None = None
        self.message: str | None = None
        # the claim wrote the start: the first write waits one interval, so a job shorter than
        # that costs no progress write at all
        self.next_write = clock() + interval

    def snapshot(self) -> dict:
        steps = len(self.steps)
        return {
            "step": self.step,
            "steps": steps,
            "step_name": self.step_name,
            "current": self.current,
            "total": self.total,
            "percent": percent_of(self.step, steps, self.current, self.total),
            "message": self.message,
        }

    def completed(self) -> dict:
        """The snapshot of a job that succeeded: its last declared step, complete."""
        steps = len(self.steps)
        total = self.total if self.step == steps and self.total else 1
        return {"step": steps, "steps": steps, "step_name": self.steps[-1] if steps else None,
                "current": total, "total": total, "percent": 100.0, "message": None}

    def begin(self, name: str, total: float | None) -> None:
        try:
            index = self.steps.index(name) + 1
        except ValueError:
            raise ValueError(f"step {name!r} is not one of the processor's declared steps {self.steps}") from None
        if index < self.step:
            raise ValueError(f"step {name!r} comes before step {self.step_name!r}: steps run in declared order")
        self.step, self.step_name = index, name
        self.current, self.total, self.message = 0, total, None
        self.maybe_flush()

    def maybe_flush(self) -> None:
        """Write if the interval has passed (a fast job's step boundaries cost no store write)."""
        if self.clock() >= self.next_write:
            self.flush()
        else:
            self.check()

    def flush(self) -> None:
        """Write now (throttle or not), then raise if the job was cancelled or is overdue."""
        now = self.clock()
        self.next_write = now + self.interval
        if self.sink is not None and self.sink(self.snapshot()):
            self.cancelled = True
        self.check(now)

    def check(self, now: float | None = None) -> None:
        if self.cancelled:
            raise JobCancelled("The job was cancelled.")
        if self.deadline is not None and (now if now is not None else self.clock()) > self.deadline:
            raise JobTimeLimit("The job ran over its time limit.")


class Step:
    """The handle a processor gets from ``ctx.step(...)``: ``advance`` and a settable ``total``.

    ``advance`` is the hot path. A call with the default ``n=1`` and no message only counts down
    (the position is the count of such calls since the last reset, plus a base), so it costs one
    attribute update and a compare; other calls add to the base. Only every so many calls
    (adapted so the clock is read about ten times per write interval) does it read the clock,
    publish its position to the :class:`Progress`, and maybe write.
    """

    __slots__ = ("_progress", "_clock", "_base", "_mark", "message", "_left", "_batch", "_last")

    def __init__(self, progress: Progress):
        self._progress = progress
        self._clock = progress.clock
        self._base: float = progress.current
        self.message: str | None = progress.message
        self._left = self._mark = 1
        self._batch = 1
        self._last = progress.clock()

    @property
    def current(self) -> float:
        """The position within the step: ``_base`` plus the plain calls counted down since ``_mark``."""
        return self._base + (self._mark - self._left)

    @current.setter
    def current(self, value: float) -> None:
        self._base, self._mark = value, self._left

    @property
    def total(self) -> float | None:
        return self._progress.total

    @total.setter
    def total(self, value: float | None) -> None:
        self._progress.total = value

    def advance(self, n: float = 1, message: str | None = None) -> None:
        self._left -= 1
        if self._left > 0 and n == 1 and message is None:
            return
        self._advance_more(n, message)

    def _advance_more(self, n: float, message: str | None) -> None:
        # the countdown above already counted this call as 1
        if n != 1:
            self._base += n - 1
        if message is not None:
            self.message = message
        if self._left <= 0:
            self._tick()

    def update(self, current: float, message: str | None = None) -> None:
        """Set the position within the step directly (for example bytes read so far)."""
        self._left -= 1
        self._base, self._mark = current, self._left
        if message is not None:
            self.message = message
        if self._left <= 0:
            self._tick()

    def sync(self) -> None:
        """Publish the handle's position to the progress (at step end, before a final write)."""
        p = self._progress
        p.current, p.message = self.current, self.message

    def _tick(self) -> None:
        p = self._progress
        current = self.current
        p.current, p.message = current, self.message
        now = self._clock()
        elapsed = now - self._last
        self._last = now
        # aim for about ten clock reads per write interval, whatever the cost of one item
        target = p.interval / 10 if p.interval > 0 else 0
        if target <= 0:
            self._batch = 1
        elif elapsed <= 0:
            self._batch = min(self._batch * 2, 1 << 20)
        else:
            self._batch = max(1, min(int(self._batch * target / elapsed), 1 << 20))
        self._base = current
        self._left = self._mark = self._batch
        if now >= p.next_write:
            p.flush()
