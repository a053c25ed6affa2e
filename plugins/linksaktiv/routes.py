"""Routes of the linksaktiv module (mounted under ``/api/orgs/{org_id}/linksaktiv``)."""

from __future__ import annotations

from typing import Any

from litestar import get, post

from core.api import Actor, OrgScope, Page, get_in_org, page_in_org, record, requires, to_row
from plugins.linksaktiv.schemas import EditionIn, EditionOut
from plugins.linksaktiv.tables import Edition

__all__ = ["handlers"]


def _edition_out(row: dict[str, Any]) -> EditionOut:
    return EditionOut(
        id=row["id"],
        org_id=row["org_id"],
        title=row["title"],
        date=row["date"],
        copies=row["copies"],
        bundle_size=row["bundle_size"],
    )


@get("/editions", guards=[requires("linksaktiv.view")], summary="Newspaper editions")
async def list_editions(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[EditionOut]:
    """Editions of this unit, newest first."""
    page = await page_in_org(Edition, org, limit, cursor)
    return Page([_edition_out(r) for r in page.items], page.next_cursor)


@post("/editions", guards=[requires("linksaktiv.manage")], summary="Create an edition")
async def create_edition(actor: Actor, org: OrgScope, data: EditionIn) -> EditionOut:
    """Create a newspaper edition of this unit."""
    rows = await Edition.insert(Edition(org=org.id, **to_row(data))).run()
    await record(
        "linksaktiv.edition_created",
        user_id=actor.user_id,
        org_id=org.id,
        object_type="edition",
        object_id=rows[0]["id"],
    )
    return _edition_out(await get_in_org(Edition, rows[0]["id"], org, "edition"))


@get("/editions/{edition_id:int}", guards=[requires("linksaktiv.view")], summary="One edition")
async def get_edition(org: OrgScope, edition_id: int) -> EditionOut:
    """An edition of this unit (404 for another unit's)."""
    return _edition_out(await get_in_org(Edition, edition_id, org, "edition"))


def handlers() -> list:
    """Route handlers of the linksaktiv module."""
    return [list_editions, create_edition, get_edition]
