"""The events module's console handlers: signing the person on the call screen up for an
event (the form of the events section of a call card)."""

from __future__ import annotations

from litestar import Request, Response, post

from core import ConsolePages
from core.api import (
    Actor,
    OrgScope,
    Problem,
    call_card_return,
    console_form_errors,
    form_int,
    read_call_grant,
    requires,
    see_other,
    translate,
)
from plugins.events.call_card import SIGNUP_PATH, sign_up_from_call

__all__ = ["console_pages"]


@post(f"/{SIGNUP_PATH}", guards=[requires("events.signup")], status_code=303)
async def call_card_signup(request: Request, actor: Actor, org: OrgScope) -> Response:
    """Sign the person the caller is calling (the form's ``grant``) up for ``event_id``,
    then back to the call screen with what happened."""
    form = await request.form()
    back = call_card_return(form.get("return_to"), f"/app/orgs/{org.id}")
    person_id = read_call_grant(form.get("grant"), actor.user_id)
    try:
        event_id = form_int(form, "event_id")
        shift_id = form_int(form, "shift_id") or None
        row = await sign_up_from_call(org.id, person_id, event_id, shift_id)
    except Problem as exc:
        message = console_form_errors(request, exc, ()).get("form", "")
        return see_other(back, message, kind="error")
    if row["status"] == "waiting":
        return see_other(back, translate(request, "The event is full: on the waiting list."))
    return see_other(back, translate(request, "Signed up for the event."))


def console_pages() -> ConsolePages:
    """The events module's console handlers: the call card's sign-up, the organizer's event
    pages (``event_pages.py``) with their menu entry, shifts, participants and check-in."""
    from plugins.events.event_pages import EVENTS_MENU, event_pages
    from plugins.events.participant_pages import participant_pages
    from plugins.events.shift_pages import shift_pages

    return ConsolePages(
        handlers=[call_card_signup, *event_pages(), *shift_pages(), *participant_pages()],
        menu=EVENTS_MENU,
    )
