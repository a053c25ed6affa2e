"""The module's lists in keyset pages by id (the cursor is the last id shown)."""

from __future__ import annotations

from typing import Any

from core.api import Page, db, invalid

__all__ = ["page_by_id"]


async def page_by_id(
    sql: str,
    args: list[Any],
    id_column: str,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[dict[str, Any]]:
    """The rows of ``sql`` (a ``SELECT … WHERE …`` whose rows have an ``id``) after the id
    ``cursor``, by ``id_column`` (newest first when ``descending``), ``limit`` of them (1 to
    500).

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    limit = max(1, min(limit, 500))
    # ASCII digits only ("²".isdigit() is true) and within a 64-bit id
    if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise invalid("cursor", "not a cursor of this list")
    if cursor:
        sql += f" AND {id_column} {'<' if descending else '>'} {{}}"
        args = [*args, int(cursor)]
    order = f"{id_column} DESC" if descending else id_column
    rows = await db.fetch(sql + f" ORDER BY {order} LIMIT {{}}", *args, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1]["id"]) if more else None)
