"""A unit's start page: the unit, its subunits, counts, and the cards modules add."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from core.auth.actor import Actor
from core.auth.guards import OrgScope
from core.modules import CORE
from core.orgs.services import get_unit, module_states, unit_overview
from core.web.contract import Card
from core.web.render import console_locale, render_console

__all__ = ["start_page", "unit_cards"]


async def unit_cards(registry: Any, org: OrgScope, actor: Actor, locale: str) -> list[Card]:
    """The cards of core and of every module that is on for the unit (hook ``unit_cards``; a
    module that is off there is not asked), lowest ``order`` first."""
    installed = sorted(registry.modules)
    states = await module_states(org.path, installed) if installed else {}
    asked = [CORE, *(name for name in installed if states.get(name))]
    found = await registry.gather_each(
        "unit_cards", only=asked, org_id=org.id, org_path=org.path, actor=actor, locale=locale
    )
    return sorted((card for _name, cards in found for card in cards), key=lambda c: c.order)


@get("/")
async def start_page(request: Request, actor: Actor, org: OrgScope) -> Response[str]:
    """What is going on in the unit: subunits, people and members, the modules' cards."""
    unit = await get_unit(org.id)
    overview = await unit_overview(org.id, org.path)
    cards = await unit_cards(request.app.state.orga.registry, org, actor, console_locale(request))
    return await render_console(
        request,
        "core/start.html.jinja",
        title=unit["name"] if unit else "",
        overview=overview,
        cards=cards,
        can_see_people=actor.can("people.view", org.path),
    )
