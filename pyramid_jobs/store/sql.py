"""SQL shared by the relational stores (SQLite, PostgreSQL): the one query that pages the list."""
from __future__ import annotations

from typing import Any

from .base import ANY


def page_query(table: str, state: str | None, owner: Any, before: dict | None, limit: int,
               mark: str = "?") -> tuple[str, list]:
    """``SELECT doc`` of one page of the list, newest first, and its arguments (``mark`` is the
    driver's placeholder). Served by the (owner, state, created) and (created, id) indexes."""
    where, args = [], []
    if state is not None:
        where.append(f"state = {mark}")
        args.append(state)
    if owner is not ANY:
        where.append(f"owner IS NOT DISTINCT FROM {mark}" if mark != "?" else "owner IS ?")
        args.append(owner)
    if before is not None:
        where.append(f"(created < {mark} OR (created = {mark} AND id < {mark}))")
        args += [before["created"], before["created"], before["id"]]
    sql = f"SELECT doc FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY created DESC, id DESC LIMIT {mark}"
    return sql, [*args, limit]
