"""A unit's start page: the unit, its subunits, counts, and the cards modules add."""

from __future__ import annotations

from litestar import Request, Response, get

from core.auth.actor import Actor
from core.auth.guards import OrgScope
from core.orgs.services import get_unit, unit_overview
from core.web.contract import Card
from core.web.render import render_console

__all__ = ["start_page"]


@get("/")
async def start_page(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """What is going on in the unit: subunits, people and members, the modules' cards."""
    registry = request.app.state.orga.registry
    unit = await get_unit(org.id)
    overview = await unit_overview(org.id, org.path)
    found = await registry.gather("unit_cards", org_id=org.id, org_path=org.path, actor=actor)
    cards: list[Card] = sorted((card for group in found for card in group), key=lambda c: c.order)
    return await render_console(
        request,
        "core/start.html.jinja",
        title=unit["name"] if unit else "",
        overview=overview,
        cards=cards,
        can_see_people=actor.can("people.view", org.path),
    )
