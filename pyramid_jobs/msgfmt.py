"""Compile the gettext catalogs: every ``locale/*/LC_MESSAGES/*.po`` to the ``.mo`` Python's gettext reads.

Standalone on purpose (standard library only, no import of the package): ``setup.py`` runs it while
the package is built or installed, before any dependency is there, and ``make`` runs it as
``python pyramid_jobs/msgfmt.py``. The ``.po`` files are the source; the ``.mo`` files are never
committed. Only what the catalogs here use is read: ``msgid``, ``msgid_plural``, ``msgstr``,
``msgstr[n]``, comments and continued strings; ``msgctxt`` and fuzzy entries are refused/skipped.
"""
from __future__ import annotations

import ast
import os
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"


def parse_po(text: str) -> dict[str, str]:
    """``{msgid: msgstr}``; plural entries keyed ``singular\\0plural`` with forms joined by NUL."""
    messages: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    key: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal entry, key, fuzzy
        if "msgid" in entry and not fuzzy:
            msgid = "".join(entry["msgid"])
            if "msgid_plural" in entry:
                msgid += "\0" + "".join(entry["msgid_plural"])
                forms = sorted(k for k in entry if k.startswith("msgstr["))
                msgstr = "\0".join("".join(entry[k]) for k in forms)
            else:
                msgstr = "".join(entry.get("msgstr", []))
            if msgstr.replace("\0", "") or not msgid:
                messages[msgid] = msgstr
        entry, key, fuzzy = {}, None, False

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if any(k.startswith("msgstr") for k in entry):
                flush()
            fuzzy = True
            continue
        if not line or line.startswith("#"):
            if not line and entry:
                flush()
            continue
        if line.startswith("msgctxt"):
            raise ValueError(f"line {number}: msgctxt is not supported")
        if line.startswith('"'):
            if key is None:
                raise ValueError(f"line {number}: a string outside an entry")
            entry[key].append(ast.literal_eval(line))
            continue
        word, _, rest = line.partition(" ")
        if word == "msgid" and any(k.startswith("msgstr") for k in entry):
            flush()
        key = word
        entry[key] = [ast.literal_eval(rest.strip())]
    flush()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    """The GNU ``.mo`` layout: header, two tables of (length, offset), then the strings."""
    keys = sorted(messages)
    ids = [k.encode("utf-8") for k in keys]
    strs = [messages[k].encode("utf-8") for k in keys]
    start = 7 * 4 + 16 * len(keys)
    offsets, data = [], b""
    for s in ids:
        offsets.append((len(s), start + len(data)))
        data += s + b"\0"
    str_offsets = []
    for s in strs:
        str_offsets.append((len(s), start + len(data)))
        data += s + b"\0"
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    table = b"".join(struct.pack("ii", n, o) for n, o in offsets)
    table += b"".join(struct.pack("ii", n, o) for n, o in str_offsets)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".mo.tmp")
    tmp.write_bytes(header + table + data)
    os.replace(tmp, path)


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Compile every catalog under ``locale_dir``; answers the ``.mo`` files written."""
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        write_mo(parse_po(po.read_text(encoding="utf-8")), mo)
        written.append(mo)
    return written


if __name__ == "__main__":
    for mo in compile_all(Path(sys.argv[1]) if len(sys.argv) > 1 else LOCALE_DIR):
        print(f"compiled {mo}")
