"""Routes of the events module (mounted under ``/api/orgs/{org_id}/events``)."""

from __future__ import annotations

from litestar import get, post

from core.api import Actor, OrgScope, Page, get_in_org, page_in_org, record, requires
from plugins.events import services
from plugins.events.schemas import EventIn, EventOut
from plugins.events.tables import Event

__all__ = ["handlers"]


@get("/", guards=[requires("events.view")], summary="Events of this unit")
async def list_events(org: OrgScope, limit: int = 50, cursor: str | None = None) -> Page[EventOut]:
    """Events of the unit, newest first."""
    page = await page_in_org(Event, org, limit, cursor)
    return Page([services.event_out(r) for r in page.items], page.next_cursor)


@post("/", guards=[requires("events.manage")], summary="Create an event")
async def create_event(actor: Actor, org: OrgScope, data: EventIn) -> EventOut:
    """Create an event of this unit."""
    row = await services.create_event(org.id, data)
    await record(
        "events.created",
        user_id=actor.user_id,
        org_id=org.id,
        object_type="event",
        object_id=row["id"],
    )
    return services.event_out(row)


@get("/{event_id:int}", guards=[requires("events.view")], summary="One event")
async def get_event(org: OrgScope, event_id: int) -> EventOut:
    """An event of this unit (404 for another unit's)."""
    return services.event_out(await get_in_org(Event, event_id, org, "event"))


def handlers() -> list:
    """Route handlers of the events module."""
    return [list_events, create_event, get_event]
