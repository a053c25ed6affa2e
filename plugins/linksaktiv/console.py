"""Linksaktiv's console handlers: the call card's form of topics and newspaper distribution."""

from __future__ import annotations

from litestar import Request, Response, post

from core import ConsolePages
from core.api import (
    Actor,
    OrgScope,
    Problem,
    call_card_return,
    console_form_errors,
    read_call_grant,
    see_other,
    translate,
)
from plugins.linksaktiv.activist_pages import ACTIVIST_MENU, activist_pages
from plugins.linksaktiv.call_card import INTERESTS_PATH, save_interests
from plugins.linksaktiv.network_pages import NETWORK_MENU, network_pages
from plugins.linksaktiv.newspaper_pages import NEWSPAPER_MENU, newspaper_pages
from plugins.linksaktiv.referral_pages import REFERRAL_MENU, referral_pages

__all__ = ["console_pages"]


@post(f"/{INTERESTS_PATH}", status_code=303)
async def call_card_interests(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Save the topics and the newspaper distribution of the person the caller is calling
    (the form's ``grant`` is the permission), then back to the call screen."""
    form = await request.form()
    back = call_card_return(form.get("return_to"), f"/app/orgs/{org.id}")
    person_id = read_call_grant(form.get("grant"), actor.user_id)
    slugs = [s for s in form.getall("topics", []) if isinstance(s, str) and s]
    try:
        await save_interests(org.id, person_id, slugs, bool(form.get("newspapers")))
    except Problem as exc:
        message = console_form_errors(request, exc, ()).get("form", "")
        return see_other(back, message, kind="error")
    return see_other(back, translate(request, "Interests saved."))


def console_pages() -> ConsolePages:
    """Linksaktiv's console handlers and menu entries (each part in its own ``*_pages.py``)."""
    return ConsolePages(
        handlers=[
            call_card_interests,
            *activist_pages(),
            *network_pages(),
            *newspaper_pages(),
            *referral_pages(),
        ],
        menu=[*ACTIVIST_MENU, *NETWORK_MENU, *NEWSPAPER_MENU, *REFERRAL_MENU],
    )
