"""Options a processor declares: checked by the API, listed by ``GET /jobs/processors``, shown on the
upload page. A processor that declares none takes none: anything sent is refused ``bad_option``, so
what is stored with a job is bounded by what its processor reads.

An option declared ``secret=True`` (a PDF password) is never returned by the API, the pages or
``pjobs show``, never logged, and is removed from the job's record when the job ends.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest
from .i18n import Message

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
#: what a value of each type is, in a sentence ("must be an integer")
_A_TYPE = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}

#: How deep ``options`` may nest: every declared option is a scalar, so this is generous.
MAX_DEPTH = 8


class BadOption(BadRequest):
    code = "bad_option"


@dataclass(frozen=True)
class Option:
    """``Option("password", str, help="...", secret=True)``: name, type (str, int, float or bool),
    default, help, and whether the value is a secret."""

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    secret: bool = False

    def describe(self) -> dict:
        out = {"name": self.name, "type": _TYPES.get(self.type, self.type.__name__), "default": self.default,
               "help": self.help}
        if self.secret:
            out["secret"] = True
        return out

    def accepts(self, value: Any) -> bool:
        if self.type is bool:
            return isinstance(value, bool)
        if self.type is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return isinstance(value, self.type)


def secret_names(processor: Any) -> list[str]:
    """The names of the options ``processor`` declares secret."""
    return [o.name for o in getattr(processor, "options", ()) or () if getattr(o, "secret", False)]


def parse_options(raw: str | bytes | None, max_size: int) -> dict:
    """The ``options`` form field as a JSON object, refused 400 past ``max_size`` bytes or
    ``MAX_DEPTH`` levels (checked before parsing, so deep nesting never reaches the JSON decoder)."""
    if raw is None or raw == "" or raw == b"":
        return {}
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > max_size:
        raise BadOption(f"The options are {len(data)} bytes; the limit is {max_size}.")
    text = data.decode("utf-8", "replace")
    if nesting_depth(text) > MAX_DEPTH:
        raise BadOption(f"The options nest deeper than {MAX_DEPTH} levels.")
    try:
        options = json.loads(text)
    except ValueError as exc:
        raise BadRequest(f"The options are not valid JSON: {exc}.") from None
    if not isinstance(options, dict):
        raise BadRequest("The options must be a JSON object, such as {\"password\": \"...\"}.")
    return options


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text, outside strings (no parsing, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def validate_options(processor: Any, raw: dict) -> dict:
    """The options with their types checked and defaults applied; a 400 ``bad_option`` names what is
    wrong. A processor that declares no options takes none."""
    declared = {o.name: o for o in getattr(processor, "options", ()) or ()}
    unknown = sorted(set(raw) - set(declared))
    if unknown and not declared:
        raise BadOption(f"The {processor.name} processor takes no options; remove {', '.join(map(repr, unknown))}.")
    if unknown:
        raise BadOption(Message("The ${processor} processor has no option ${unknown}; its options are ${options}.",
                                 processor=processor.name, unknown=", ".join(map(repr, unknown)),
                                 options=", ".join(sorted(declared))))
    out = {}
    for name, option in declared.items():
        if name in raw and raw[name] is not None:
            if not option.accepts(raw[name]):
                raise BadOption(Message("The option '${name}' must be ${kind}.", name=name,
                                         kind=Message(_A_TYPE.get(option.type, option.type.__name__))))
            out[name] = raw[name]
        elif option.default is not None:
            out[name] = option.default
    return out
