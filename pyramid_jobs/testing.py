"""Run a processor on a file without a server, and collect what it reported.

    from pyramid_jobs.testing import run_processor
    run = run_processor(MyProcessor(), "sample.txt")
    assert run.result["lines"] == 3
    assert [e["step_name"] for e in run.events][0] == "Read"
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .context import JobContext
from .limits import Limits, limits_for
from .processor import Processor
from .renderers import to_jsonable


@dataclass
class ProcessorRun:
    result: dict
    events: list[dict] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
    out_dir: Path | None = None

    @property
    def step_names(self) -> list[str]:
        """The step names in the order they were entered."""
        names: list[str] = []
        for e in self.events:
            if e["step_name"] and (not names or names[-1] != e["step_name"]):
                names.append(e["step_name"])
        return names


def run_processor(
    processor: Processor,
    path: str | Path,
    *,
    options: dict | None = None,
    limits: dict[str, int] | Limits | None = None,
    filename: str | None = None,
    out_dir: str | Path | None = None,
    interval: float = 0.0,
    cancel_after: int | None = None,
    registry: Any = None,
) -> ProcessorRun:
    """Run ``processor`` on ``path`` as a job would, recording every progress write.

    ``interval=0`` records every progress call; ``cancel_after=N`` cancels the run at the N-th
    write, as a user's cancel would. The result is checked to be strict JSON, as the worker does.
    Errors (``ProcessingError``, ``JobCancelled``) propagate to the caller.
    """
    events: list[dict] = []

    def sink(snapshot: dict) -> bool:
        events.append(snapshot)
        return cancel_after is not None and len(events) >= cancel_after

    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="pyramid_jobs-"))
    limits = limits_for(processor, limits)
    ctx = JobContext(
        path,
        out_dir=out,
        steps=processor.steps,
        filename=filename,
        options=options,
        limits=limits,
        sink=sink,
        interval=interval,
        registry=registry,
    )
    result = processor.process(ctx)
    if not isinstance(result, dict):
        raise TypeError(f"{processor.name}: process() must return a dict, not {type(result).__name__}")
    return ProcessorRun(result=to_jsonable(result), events=events, artifacts=ctx.artifacts, out_dir=out)
