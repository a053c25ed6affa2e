"""The referral inbox of a unit's campaign leadership (issue #27 item 6): the volunteers
waiting at the unit (who they are, where they live, what they offered) with accept / pass up
the tree / decline and a note, and the history of what was done with them.

Thin like the JSON routes in ``order_routes.py``: the lists are
:func:`plugins.linksaktiv.referrals.inbox_open` and ``inbox_history`` (audited with the people
shown), every answer goes through :func:`plugins.linksaktiv.referrals.answer`, the same as
``POST …/referrals/{id}/answer``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    console_form_errors,
    next_page_href,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.linksaktiv import referrals

__all__ = ["REFERRAL_MENU", "referral_pages"]

RECEIVE = [requires("linksaktiv.referrals")]
PAGE_SIZE = 25
REFERRAL_MENU = [
    MenuItem(label=N_("Referrals"), path="referrals", permission="linksaktiv.referrals", order=40)
]
VIEW_LABELS = {"open": N_("Waiting"), "history": N_("History")}
HELP_LABELS = {
    "newspapers": N_("hand out newspapers"),
    "info_stand": N_("info stands"),
    "doors": N_("knock on doors"),
    "phone": N_("phone calls"),
    "online": N_("online"),
}
SOURCE_LABELS = {
    "info_stand": N_("info stand"),
    "doors": N_("at the door"),
    "event": N_("event"),
    "social_media": N_("social media"),
    "web": N_("website"),
}
STEP_LABELS = {
    "accepted": N_("Accepted"),
    "passed": N_("Passed up the tree"),
    "declined": N_("Declined"),
    "escalated": N_("Moved up: nobody answered in time"),
}
DONE = {
    "accept": N_("The referral is accepted. Please get in touch with the volunteer soon."),
    "pass": N_("The referral is passed on to the unit above."),
    "decline": N_("The referral is declined."),
}
_FIELDS = ("note",)  # the action's errors are the form's, above the buttons


def _path(org: OrgScope) -> str:
    return referrals.inbox_path(org.id)


async def _inbox(
    request: Request,
    actor: Actor,
    org: OrgScope,
    view: str,
    cursor: str | None,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    note: str = "",
    status_code: int = 200,
) -> Response[str]:
    view = view if view in VIEW_LABELS else "open"
    read = referrals.inbox_history if view == "history" else referrals.inbox_open
    page = await read(request, actor, org.id, PAGE_SIZE, cursor)
    title = translate(request, "Referrals")
    return await render_console(
        request,
        "linksaktiv/referrals.html.jinja",
        status=status_code,
        title=title,
        breadcrumbs=[(title, _path(org))],
        base=_path(org),
        view=view,
        items=page.items,
        view_labels=VIEW_LABELS,
        help_labels=HELP_LABELS,
        source_labels=SOURCE_LABELS,
        step_labels=STEP_LABELS,
        has_parent=org.path.strip("/").count("/") > 0,  # a unit above to pass referrals to
        errors=errors or {},
        failed=failed,
        note=note,
        next_href=next_page_href(_path(org), page.next_cursor, view=view),
    )


@get("/referrals", guards=RECEIVE)
async def referrals_page(
    request: Request, actor: Actor, org: OrgScope, view: str = "open", cursor: str | None = None
) -> Response[str]:
    """The volunteers waiting at the unit, oldest first (or the history, newest first)."""
    return await _inbox(request, actor, org, view, cursor)


@post("/referrals/{referral_id:int}", guards=RECEIVE, status_code=303)
async def referral_answer(
    request: Request, actor: Actor, org: OrgScope, referral_id: int
) -> Response:
    """Accept, pass up or decline a waiting referral with a note; a refusal comes back beside
    the referral with the note kept (422/409), another unit's referral is 404."""
    form = await request.form()
    action = form.get("action") or ""
    note = form.get("note") or ""
    try:
        await referrals.answer(org.id, org.path, referral_id, action, note, actor.user_id)
    except Problem as exc:
        if exc.status == 404:
            raise
        errors = console_form_errors(request, exc, _FIELDS)
        return await _inbox(
            request, actor, org, "open", None, errors, referral_id, note, exc.status
        )
    return see_other(_path(org), translate(request, DONE[action]))


def referral_pages() -> list[Any]:
    """The inbox's handlers (its menu entry is :data:`REFERRAL_MENU`)."""
    return [referrals_page, referral_answer]
