"""Options a processor declares: checked by the API, listed by ``GET /jobs/processors``, shown on the
upload page. A processor that declares none accepts any JSON object, as before."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import BadRequest

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True)
class Option:
    """``Option("password", str, help="...")``: name, type (str, int, float or bool), default, help.

    ``choices`` restricts the values: a sequence, or a callable giving one when asked (what a
    library has installed on this machine, say); an empty answer restricts nothing, as there is
    nothing to check against. With ``separator``, a string value may name several choices joined
    by it (Tesseract's ``eng+chi_sim``). A value outside the choices is refused with 400 ``bad_option``.
    """

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    choices: Any = None
    separator: str | None = None

    def allowed(self) -> list | None:
        """The choices as a list, or ``None`` when any value of the type is allowed."""
        if self.choices is None:
            return None
        values = self.choices() if callable(self.choices) else self.choices
        return list(values) or None

    def describe(self) -> dict:
        out = {"name": self.name, "type": _TYPES.get(self.type, self.type.__name__), "default": self.default,
               "help": self.help}
        allowed = self.allowed()
        if allowed is not None:
            out["choices"] = allowed
            if self.separator:
                out["separator"] = self.separator
        return out

    def refusal(self, value: Any) -> str | None:
        """Why ``value`` (already of the right type) is not one of the choices, or ``None`` when it is."""
        allowed = self.allowed()
        if allowed is None:
            return None
        parts = value.split(self.separator) if self.separator and isinstance(value, str) else [value]
        wrong = [p for p in parts if p not in allowed]
        if not wrong:
            return None
        joined = f" (several joined by {self.separator!r})" if self.separator else ""
        return (f"The option {self.name!r} cannot be {', '.join(map(repr, wrong))}; "
                f"it takes {', '.join(map(repr, allowed))}{joined}.")

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
            refusal = option.refusal(raw[name])
            if refusal:
                raise BadRequest(refusal, code="bad_option")
            out[name] = raw[name]
        elif option.default is not None:
            out[name] = option.default
    return out
