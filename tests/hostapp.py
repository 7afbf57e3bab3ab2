"""A host application for the tests: includes pyramid_jobs and adds processors through the directive."""
from __future__ import annotations

import os
import time
from typing import Any

from pyramid.config import Configurator

from pyramid_jobs import Option, ProcessingError, Processor


class Slow(Processor):
    """Counts to ``options.ticks`` (default 50), sleeping ``options.tick`` seconds per tick."""

    name = "slow"
    extensions = (".slow",)
    steps = ("Prepare", "Tick")
    description = "Sleeps in small steps (tests only)."
    options = (Option("ticks", int, help="how many ticks"), Option("tick", float, help="seconds per tick"),
               Option("token", str, help="a secret, to test that secrets stay hidden", secret=True))

    def process(self, ctx: Any) -> dict:
        ticks = int(ctx.options.get("ticks", 50))
        tick = float(ctx.options.get("tick", 0.1))
        with ctx.step("Prepare", total=1) as step:
            marker = ctx.registry.settings.get("host.marker") if ctx.registry is not None else None
            step.advance()
        with ctx.step("Tick", total=ticks) as step:
            for i in range(ticks):
                time.sleep(tick)
                step.advance(message=f"tick {i + 1} of {ticks}")
        ctx.artifact("ticks.txt").write_text(f"{ticks}\n")
        from pyramid.threadlocal import get_current_registry

        current = (get_current_registry().settings or {}).get("host.marker")
        return {"ticks": ticks, "host_marker": marker, "current_registry_marker": current,
                "attempt_pid": os.getpid()}


class Stubborn(Processor):
    """Sleeps without ever calling progress: only Celery's time limit can stop it."""

    name = "stubborn"
    extensions = (".stubborn",)
    steps = ("Sleep",)
    options = (Option("seconds", float, help="how long to sleep"),)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Sleep"):
            time.sleep(float(ctx.options.get("seconds", 30)))
        return {}


class Failing(Processor):
    name = "failing"
    extensions = (".fail",)
    steps = ("Fail",)
    options = (Option("crash", bool, help="raise an unexpected exception"),)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Fail"):
            if ctx.options.get("crash"):
                raise RuntimeError("secret internal detail")
            raise ProcessingError("corrupt_file", "The file is damaged.")


class Hog(Processor):
    """Allocates ``options.mb`` megabytes (and touches them), as a parser gone wild would."""

    name = "hog"
    extensions = (".hog",)
    steps = ("Eat",)
    options = (Option("mb", int, default=4000, help="megabytes to allocate"),)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Eat"):
            block = bytearray(int(ctx.options.get("mb", 4000)) * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])
        return {"pid": os.getpid(), "eaten": len(block)}


class Suicide(Processor):
    """Kills the process running it, as a segfault in C code or the kernel's OOM killer would."""

    name = "suicide"
    extensions = (".die",)
    steps = ("Die",)

    def process(self, ctx: Any) -> dict:
        import signal

        with ctx.step("Die"):
            os.kill(os.getpid(), signal.SIGKILL)
        return {}


class Fill(Processor):
    """Writes an artifact of ``options.mb`` megabytes (for a full data volume)."""

    name = "fill"
    extensions = (".fill",)
    steps = ("Write",)
    options = (Option("mb", int, default=1, help="megabytes to write"),)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Write"), open(ctx.artifact("fill.bin"), "wb") as out:
            for _ in range(int(ctx.options.get("mb", 1))):
                out.write(b"x" * 1024 * 1024)
        return {"pid": os.getpid()}


class Notes(Processor):
    """Hands the uploaded Markdown back as ``text.md`` untouched, as a careless plugin might."""

    name = "notes"
    extensions = (".notes",)
    steps = ("Copy",)

    def process(self, ctx: Any) -> dict:
        with ctx.step("Copy"):
            ctx.artifact("text.md").write_bytes(open(ctx.path, "rb").read())
        return {}


class Warmth(Processor):
    """Says in which process its ``warm`` ran, beside its own process and that one's parent."""

    name = "warmth"
    extensions = (".warmth",)
    steps = ("Look",)
    warmed_in: int | None = None

    def warm(self) -> None:
        Warmth.warmed_in = os.getpid()

    def process(self, ctx: Any) -> dict:
        import sys

        with ctx.step("Look"):
            return {"warmed_in": Warmth.warmed_in, "pid": os.getpid(), "parent": os.getppid(),
                    "pandas_loaded": "pandas" in sys.modules,
                    "parent_threads": len(os.listdir(f"/proc/{os.getppid()}/task"))}


def main(global_config: dict, **settings: Any) -> Any:
    settings.setdefault("here", global_config.get("here"))
    with Configurator(settings=settings) as config:
        config.include("pyramid_jobs")
        config.add_jobs_processor(Slow())
        config.add_jobs_processor(Stubborn())
        config.add_jobs_processor(Failing())
        config.add_jobs_processor("tests.hostapp.Hog")  # a dotted name works too
        config.add_jobs_processor(Suicide())
        config.add_jobs_processor(Fill())
        config.add_jobs_processor(Notes())
        config.add_jobs_processor(Warmth())
    return config.make_wsgi_app()
