"""The one plugin manager: hook specs, then every plugin of the ``pyramid_jobs`` entry-point group.

Built-in processors come through that same group (see setup.py), so the path a third-party
processor takes is the one the project uses every day.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pluggy

from . import hookspecs
from .errors import ConfigurationError
from .processor import Processor

GROUP = "pyramid_jobs"


def make_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(GROUP)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class Registered:
    processor: Processor
    plugin: str


log = logging.getLogger("pyramid_jobs.plugins")


class ProcessorSet:
    """The installed processors by name, with the package each came from."""

    def __init__(self, entries: Iterable[Registered] = ()):
        self._by_name: dict[str, Registered] = {}
        for entry in entries:
            self.add(entry.processor, entry.plugin)

    @classmethod
    def from_plugin_manager(cls, pm: pluggy.PluginManager) -> ProcessorSet:
        dists = {id(plugin): dist.project_name for plugin, dist in pm.list_plugin_distinfo()}
        out = cls()
        for impl in reversed(pm.hook.jobs_register_processors.get_hookimpls()):
            plugin = dists.get(id(impl.plugin), impl.plugin_name)
            for processor in impl.function() or ():
                out.add(processor, plugin)
        return out

    def add(self, processor: Processor, plugin: str) -> None:
        if not isinstance(processor, Processor) or not processor.name:
            raise ConfigurationError(f"plugin {plugin}", processor, "a named pyramid_jobs.Processor instance")
        if processor.name in self._by_name:
            other = self._by_name[processor.name].plugin
            raise ConfigurationError(f"processor {processor.name}", plugin,
                                     f"a unique name (already provided by {other})")
        if not processor.steps:
            raise ConfigurationError(f"processor {processor.name}", processor.steps, "at least one declared step")
        self._by_name[processor.name] = Registered(processor, plugin)

    def warm(self) -> None:
        """Every processor's :meth:`Processor.warm`; one that fails is logged and skipped (the job
        would meet the same error and report it)."""
        for entry in self._by_name.values():
            try:
                entry.processor.warm()
            except Exception:
                log.warning("processor %s could not warm up", entry.processor.name, exc_info=True)

    def get(self, name: str) -> Processor | None:
        entry = self._by_name.get(name)
        return entry.processor if entry else None

    def for_filename(self, filename: str) -> Processor | None:
        """The processor whose extension matches the end of ``filename`` (longest match wins)."""
        lower = filename.lower()
        best: tuple[int, Processor] | None = None
        for entry in self._by_name.values():
            for ext in entry.processor.extensions:
                if lower.endswith(ext) and (best is None or len(ext) > best[0]):
                    best = (len(ext), entry.processor)
        return best[1] if best else None

    def describe(self) -> list[dict]:
        return [{**e.processor.describe(), "plugin": e.plugin} for e in self._by_name.values()]

    def extensions(self) -> list[str]:
        return sorted({ext for e in self._by_name.values() for ext in e.processor.extensions})

    def __iter__(self) -> Iterator[Processor]:
        return (e.processor for e in self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name
