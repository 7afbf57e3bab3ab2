"""Bounds on what a processor may read, so that a hostile file ends in bounded time and memory.

The core knows no limit names: each processor declares the limits it reads and their defaults
(``Processor.limits``), and a ``jobs.limit.<name>`` setting changes that limit for every processor
that declares it. Processors read them from ``ctx.limits`` (``ctx.limits.max_pages`` or
``ctx.limits.get(name)``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Limits(Mapping):
    """Read-only mapping of limit name to integer, with attribute access."""

    def __init__(self, values: Mapping[str, int] | None = None):
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> int:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> int:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"no limit {key!r}: declare it in the processor's `limits`") from None

    def __repr__(self) -> str:
        return f"Limits({self._values!r})"


def limits_for(processor: Any, overrides: Mapping[str, int] | None = None) -> Limits:
    """The processor's declared defaults with the ``jobs.limit.*`` settings (or a test's values) on top."""
    return Limits({**dict(getattr(processor, "limits", None) or {}), **dict(overrides or {})})


def check_overrides(overrides: Mapping[str, int], processors: Any) -> None:
    """Every ``jobs.limit.<name>`` setting names a limit some installed processor declares (a typo stops start-up)."""
    from .errors import ConfigurationError

    declared = {name for p in processors for name in (getattr(p, "limits", None) or {})}
    for name in sorted(set(overrides) - declared):
        raise ConfigurationError(f"jobs.limit.{name}", overrides[name],
                                 f"one of the limits the installed processors declare: {', '.join(sorted(declared))}")
