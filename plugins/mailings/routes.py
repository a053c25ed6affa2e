"""Routes of the mailings module (mounted under ``/api/orgs/{org_id}/mailings``)."""

from __future__ import annotations

from litestar import get, post

from core.api import Actor, OrgScope, Page, get_in_org, page_in_org, record, requires
from plugins.mailings import services
from plugins.mailings.schemas import MailingIn, MailingOut
from plugins.mailings.tables import Mailing

__all__ = ["handlers"]


@get("/", guards=[requires("mailings.edit")], summary="Mailings of this unit")
async def list_mailings(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[MailingOut]:
    """Mailings of the unit, newest first."""
    page = await page_in_org(Mailing, org, limit, cursor)
    return Page([services.mailing_out(r) for r in page.items], page.next_cursor)


@post("/", guards=[requires("mailings.edit")], summary="Create a mailing draft")
async def create_mailing(actor: Actor, org: OrgScope, data: MailingIn) -> MailingOut:
    """Create a draft mailing of this unit."""
    row = await services.create_mailing(org.id, data)
    await record(
        "mailings.created",
        user_id=actor.user_id,
        org_id=org.id,
        object_type="mailing",
        object_id=row["id"],
    )
    return services.mailing_out(row)


@get("/{mailing_id:int}", guards=[requires("mailings.edit")], summary="One mailing")
async def get_mailing(org: OrgScope, mailing_id: int) -> MailingOut:
    """A mailing of this unit (404 for another unit's)."""
    return services.mailing_out(await get_in_org(Mailing, mailing_id, org, "mailing"))


def handlers() -> list:
    """Route handlers of the mailings module."""
    return [list_mailings, create_mailing, get_mailing]
