"""Rows a unit owns (a table whose ``org`` column names the unit): one of them, else 404; a
page of them."""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from core.auth.guards import OrgScope
from core.pagination import Page, keyset_page
from core.problems import not_found

__all__ = ["get_in_org", "page_in_org"]


async def get_in_org(table: type[Table], object_id: int, org: OrgScope, what: str) -> dict:
    """The row ``object_id`` of ``table`` owned by unit ``org`` (column ``org``), else 404."""
    row = (
        await table.select()
        .where(
            (table._meta.primary_key == object_id) & (table.org == org.id)  # type: ignore[attr-defined]
        )
        .first()
        .run()
    )
    if row is None:
        raise not_found(what)
    return row


async def page_in_org(
    table: type[Table], org: OrgScope, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page (newest first) of the rows of ``table`` owned by unit ``org``."""
    query = table.select().where(table.org == org.id)  # type: ignore[attr-defined]
    return await keyset_page(query, table._meta.primary_key, limit, cursor, newest_first=True)
