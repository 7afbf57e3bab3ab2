"""The base class every processor derives from: what it is called, what it takes, its steps."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class Processor:
    """A unit of work on one uploaded file.

    Subclasses set the class attributes and implement :meth:`process`. A processor needs neither
    Pyramid nor Celery: it receives a context (see :class:`pyramid_jobs.context.JobContext`) and
    returns a JSON-able dict, so it can be run and tested from a plain Python call.
    """

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    media_types: ClassVar[tuple[str, ...]] = ()
    steps: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    #: options the processor takes (``pyramid_jobs.Option``); none declared means any JSON object
    options: ClassVar[tuple] = ()
    #: the limits it reads from ``ctx.limits``, with their defaults; ``jobs.limit.<name>`` changes one
    limits: ClassVar[Mapping[str, int]] = {}
    #: asset spec of the Jinja2 template that draws its result on the job page, such as
    #: ``"my_package:templates/result.jinja2"``; without one the page lists the result's keys
    result_template: ClassVar[str | None] = None
    #: asset spec of a folder of static files served under ``<prefix>/ui/assets/<name>/``, and the
    #: stylesheets and scripts in it that the job page loads
    static: ClassVar[str | None] = None
    stylesheets: ClassVar[tuple[str, ...]] = ()
    scripts: ClassVar[tuple[str, ...]] = ()

    def sniff(self, head: bytes) -> bool:
        """Whether the first bytes of an upload look like this processor's format.

        Called before a job is accepted, with up to 8 KiB of the file; a ``False`` answer turns the
        upload away with ``422 content_mismatch``. The default accepts anything.
        """
        return True

    def process(self, ctx: Any) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def warm(self) -> None:
        """Load now what :meth:`process` would load on first use (libraries, dictionaries).

        Called once in a process that forks job processes (the embedded worker's fork server, a
        Celery worker before its pool starts), so each job starts with them loaded; never in the web
        process, which should stay light. The default does nothing.
        """

    def capabilities(self) -> dict:
        """What this installation can do, listed by ``GET /jobs/processors`` (for example whether an
        optional engine such as OCR is installed, and with what). Asked at every listing: keep it cheap."""
        return {}

    def describe(self) -> dict:
        return {
            "name": self.name,
            "extensions": list(self.extensions),
            "media_types": list(self.media_types),
            "steps": list(self.steps),
            "description": self.description,
            "options": [o.describe() for o in self.options],
            "limits": dict(self.limits),
            "capabilities": self.capabilities(),
        }

    def __repr__(self) -> str:
        return f"<Processor {self.name}>"
