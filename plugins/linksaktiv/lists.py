"""Keyset pages of linksaktiv's raw-SQL lists, with core's cursors and limit check."""

from __future__ import annotations

from typing import Any

from core.api import Page, check_limit, db, decode_cursor, page_of

__all__ = ["page_by_id"]


async def page_by_id(
    sql: str,
    args: list[Any],
    id_column: str,
    limit: int,
    cursor: str | None,
    descending: bool = False,
) -> Page[dict[str, Any]]:
    """The rows of ``sql`` (a ``SELECT … WHERE …`` whose rows have an ``id``) after the
    ``cursor``, by ``id_column`` (newest first when ``descending``), ``limit`` of them.

    Raises:
        Problem: 422 naming ``limit`` beyond 1 to 500, or ``cursor`` for one not of a list.
    """
    check_limit(limit)
    key = decode_cursor(cursor)
    if key is not None:
        sql += f" AND {id_column} {'<' if descending else '>'} {{}}"
        args = [*args, key[0]]
    order = f"{id_column} DESC" if descending else id_column
    rows = await db.fetch(sql + f" ORDER BY {order} LIMIT {{}}", *args, limit + 1)
    return page_of(rows, limit, key=lambda row: [row["id"]])
