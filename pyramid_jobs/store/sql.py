"""SQL shared by the relational stores (SQLite, PostgreSQL): the one query that pages the list."""
from __future__ import annotations

from typing import Any

from .base import ANY


def page_query(table: str, state: str | None, owner: Any, before: dict | None, limit: int,
               mark: str = "?") -> tuple[str, list]:
    """``SELECT doc`` of one page of the list, newest first, and its arguments (``mark`` is the
    driver's placeholder). Served by the (owner, state, created, id), (owner, created, id),
    (state, created, id) and (created, id) indexes: a page reads its own rows, whatever the table holds."""
    where, args = [], []
    if state is not None:
        where.append(f"state = {mark}")
        args.append(state)
    if owner is None:
        where.append("owner IS NULL")
    elif owner is not ANY:
        where.append(f"owner = {mark}")  # not IS NOT DISTINCT FROM: PostgreSQL uses no index for it
        args.append(owner)
    if before is not None:
        where.append(f"(created, id) < ({mark}, {mark})")  # a row value: a range on the index, not a scan
        args += [before["created"], before["id"]]
    sql = f"SELECT doc FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY created DESC, id DESC LIMIT {mark}"
    return sql, [*args, limit]
