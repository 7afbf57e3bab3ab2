"""Options a processor declares: checked by the API, listed by ``GET /jobs/processors``, shown on the
upload page. A processor that declares none accepts any JSON object, as before."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import BadRequest
from .i18n import Message

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
#: what a value of each type is, in a sentence ("must be an integer")
_A_TYPE = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


@dataclass(frozen=True)
class Option:
    """``Option("password", str, help="...")``: name, type (str, int, float or bool), default, help."""

    name: str
    type: type = str
    default: Any = None
    help: str = ""

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
        raise BadRequest(Message("The ${processor} processor has no option ${unknown}; its options are ${options}.",
                                 processor=processor.name, unknown=", ".join(map(repr, unknown)),
                                 options=", ".join(sorted(declared))))
    out = {}
    for name, option in declared.items():
        if name in raw and raw[name] is not None:
            if not option.accepts(raw[name]):
                raise BadRequest(Message("The option '${name}' must be ${kind}.", name=name,
                                         kind=Message(_A_TYPE.get(option.type, option.type.__name__))))
            out[name] = raw[name]
        elif option.default is not None:
            out[name] = option.default
    return out
