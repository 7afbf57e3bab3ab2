"""What a processor receives: its input, its options, its limits, and the way to report progress."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .limits import Limits
from .progress import Progress, Sink, Step

_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_artifact_name(name: str) -> str:
    """Artifact names are plain file names: they can never escape the job's folder."""
    if not isinstance(name, str) or not _ARTIFACT_NAME.match(name) or ".." in name:
        raise ValueError(f"artifact name {name!r} must be a plain file name of letters, digits, '.', '_' or '-'")
    return name


class JobContext:
    """The processor's view of a job.

    ``path`` is the upload (read it, never write it); ``filename`` the client's name for it,
    display text only; ``options`` a dict; ``limits`` the bounds from settings; ``registry`` the
    Pyramid registry when the job runs in an application (else ``None``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        out_dir: str | Path,
        steps: tuple[str, ...] | list[str] = (),
        filename: str | None = None,
        options: dict | None = None,
        limits: Limits | None = None,
        sink: Sink | None = None,
        interval: float = 0.5,
        deadline: float | None = None,
        registry: Any = None,
        job_id: str | None = None,
        logger: logging.Logger | None = None,
    ):
        self.path = Path(path)
        self.filename = filename if filename is not None else self.path.name
        self.options = dict(options or {})
        self.limits = limits if limits is not None else Limits()
        self.registry = registry
        self.job_id = job_id
        self.log = logger or logging.getLogger("pyramid_jobs.processor")
        self.out_dir = Path(out_dir)
        self.progress = Progress(steps, sink, interval=interval, deadline=deadline)
        self._artifacts: dict[str, Path] = {}

    @contextmanager
    def step(self, name: str, total: float | None = None) -> Iterator[Step]:
        """Enter one of the processor's declared steps; the handle reports progress within it."""
        self.progress.begin(name, total)
        handle = Step(self.progress)
        yield handle
        handle.sync()
        if self.progress.total:
            self.progress.current = self.progress.total
        self.progress.maybe_flush()

    def artifact(self, name: str) -> Path:
        """A path to write an output file to; once the job succeeds it can be downloaded by name."""
        check_artifact_name(name)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / name
        self._artifacts[name] = path
        return path

    @property
    def artifacts(self) -> dict[str, Path]:
        return dict(self._artifacts)

    @property
    def cancelled(self) -> bool:
        """True once the job was cancelled (learnt at the last progress write)."""
        return self.progress.cancelled

    def check(self) -> None:
        """Raise now if the job was cancelled or ran over its time limit.

        Progress calls do this already; call it inside long loops that report no progress.
        """
        self.progress.check()
