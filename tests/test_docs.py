"""The reference in docs/ stays true: every setting and limit the code knows is documented, and no other."""
from __future__ import annotations

import re
from pathlib import Path

from pyramid_jobs.plugins import ProcessorSet, make_plugin_manager
from pyramid_jobs.settings import _TABLE, parse_size

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _table_rows(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first Markdown table after ``heading``."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_settings_reference_matches_the_table():
    rows = _table_rows((DOCS / "settings.md").read_text(encoding="utf-8"), "# Settings")
    documented = {key for row in rows for key in re.findall(r"`jobs\.([a-z_.*]+)`", row[0])}
    assert documented - {"limit.*", "celery.*"} == set(_TABLE)
    assert {"limit.*", "celery.*"} <= documented


BUILT_IN = {"txt", "pdf", "docx", "doc", "csv", "xlsx"}


def test_limits_reference_matches_what_the_built_in_processors_declare():
    rows = _table_rows((DOCS / "settings.md").read_text(encoding="utf-8"), "## Limits")
    documented = {row[0].strip("`"): (parse_size(row[1].replace(",", "").replace(" ", "")), set(row[2].split()))
                  for row in rows}
    declared: dict[str, tuple[int, set]] = {}
    for processor in ProcessorSet.from_plugin_manager(make_plugin_manager()):
        if processor.name not in BUILT_IN:
            continue
        for name, default in processor.limits.items():
            value, owners = declared.setdefault(name, (default, set()))
            assert value == default, f"{name}: {processor.name} declares {default}, others {value}"
            owners.add(processor.name)
    assert documented == declared
