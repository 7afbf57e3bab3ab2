"""Options a processor declares: checked by the API, listed by ``GET /jobs/processors``, shown on the
upload page. A processor that declares none accepts any JSON object, as before."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True)
class Option:
    """``Option("password", str, help="...")``: name, type (str, int, float or bool), default, help,
    and ``check``: a function given a value of the right type that returns why it is not usable
    (a sentence, answered as ``400 bad_option`` at submit) or None."""

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    check: Callable[[Any], str | None] | None = field(default=None, compare=False, repr=False)

    def describe(self) -> dict:
        return {"name": self.name, "type": _TYPES.get(self.type, self.type.__name__), "default": self.default,
                "help": self.help}

    def accepts(self, value: Any) -> bool:
        if self.type is bool:
            return isinstance(value, bool)
        if self.type is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return isinstance(value, self.type)


def validate_options(processor: Any, raw: dict) -> dict:
    """The options with their types checked and defaults applied; a 400 names what is wrong."""
    declared = {o.name: o for o in getattr(processor, "options", ()) or ()}
    if not declared:
        return dict(raw)
    unknown = sorted(set(raw) - set(declared))
    if unknown:
        raise BadRequest(f"The {processor.name} processor has no option {', '.join(map(repr, unknown))}; "
                         f"its options are {', '.join(sorted(declared))}.")
    out = {}
    for name, option in declared.items():
        if name in raw and raw[name] is not None:
            if not option.accepts(raw[name]):
                raise BadRequest(f"The option {name!r} must be a {_TYPES.get(option.type, option.type.__name__)}.")
            problem = option.check(raw[name]) if option.check else None
            if problem:
                raise BadRequest(f"The option {name!r} is not usable: {problem}", code="bad_option")
            out[name] = raw[name]
        elif option.default is not None:
            out[name] = option.default
    return out
