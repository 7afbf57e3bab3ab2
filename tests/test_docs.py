"""The reference in docs/ stays true: every setting and limit the code knows is documented, and no other."""
from __future__ import annotations

import re
from pathlib import Path

from pyramid_jobs.limits import Limits
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


def test_limits_reference_matches_the_defaults():
    rows = _table_rows((DOCS / "settings.md").read_text(encoding="utf-8"), "## Limits")
    documented = {row[0].strip("`"): parse_size(row[1].replace(",", "").replace(" ", "")) for row in rows}
    assert documented == dict(Limits())
