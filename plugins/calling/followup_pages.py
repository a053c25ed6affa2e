"""The follow-ups inbox (issue #25, item 10): what callers passed on for the people of the unit
(routed by the person's home unit), to assign to someone and to close with a note.

Thin like the JSON routes: the list is :func:`plugins.calling.followups.read_followups`
(audited with the people shown) and every change goes through
:func:`plugins.calling.followups.update_followup`, the same as ``PATCH …/followups/{id}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from core import MenuItem
from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    console_form_errors,
    invalid,
    next_page_href,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.calling import followups
from plugins.calling.schemas import FollowUpPatch

__all__ = ["FOLLOWUP_MENU", "followup_pages"]

MANAGE = [requires("calling.manage")]
PAGE_SIZE = 30
KIND_LABELS = {
    "organizer_action": N_("Organizer action needed"),
    "local_contact": N_("Wants contact with the local group"),
}
STATUS_LABELS = {"open": N_("Open"), "done": N_("Done")}
FOLLOWUP_MENU = [
    MenuItem(label=N_("Follow-ups"), path="followups", permission="calling.manage", order=45)
]
_FIELDS = ("assigned_to", "note", "status")


def _path(org: OrgScope) -> str:
    return f"/app/orgs/{org.id}/calling/followups"


async def _inbox(
    request: Request,
    actor: Actor,
    org: OrgScope,
    values: dict[str, str],
    cursor: str | None,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    status_code: int = 200,
) -> Response[str]:
    status = values["status"] if values["status"] in STATUS_LABELS else "open"
    kind = values["kind"] if values["kind"] in KIND_LABELS else None
    page = await followups.read_followups(
        request, actor, org.id, org.path, status, PAGE_SIZE, cursor, kind
    )
    homes = sorted({item.home_org_id for item in page.items})
    title = translate(request, "Follow-ups")
    return await render_console(
        request,
        "calling/followups.html.jinja",
        status=status_code,
        title=title,
        breadcrumbs=[(title, _path(org))],
        base=_path(org),
        items=page.items,
        shown_status=status,
        kind=kind or "",
        assignable=await followups.assignable_by_home(homes),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        errors=errors or {},
        failed=failed,
        next_href=next_page_href(_path(org), page.next_cursor, status=status, kind=kind),
    )


@get("/followups", guards=MANAGE)
async def followups_page(
    request: Request,
    actor: Actor,
    org: OrgScope,
    status: str = "open",
    kind: str | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """Open (or done) follow-ups of the people living in the unit's subtree, newest first."""
    return await _inbox(request, actor, org, {"status": status, "kind": kind or ""}, cursor)


@post("/followups/{followup_id:int}", guards=MANAGE, status_code=303)
async def followup_change(
    request: Request, actor: Actor, org: OrgScope, followup_id: int
) -> Response:
    """Assign the follow-up, or mark it done with a note, or open it again (one form each)."""
    form = await request.form()
    action = form.get("action") or ""
    back = {"status": form.get("back_status") or "open", "kind": form.get("back_kind") or ""}
    body: dict[str, Any] = {}
    if action == "assign":
        chosen = (form.get("assigned_to") or "").strip()
        body["assigned_to"] = int(chosen) if chosen.isdecimal() else None
    elif action == "done":
        body |= {"status": "done", "note": (form.get("note") or "").strip()}
    elif action == "reopen":
        body["status"] = "open"
    try:
        if not body:
            raise invalid("form", N_("Choose what to do."))
        data = msgspec.convert(body, FollowUpPatch)
        await followups.update_followup(org.id, org.path, followup_id, data, actor.user_id)
    except (msgspec.ValidationError, Problem) as exc:
        if isinstance(exc, Problem) and exc.status == 404:
            raise
        errors = console_form_errors(request, exc, _FIELDS)
        return await _inbox(request, actor, org, back, None, errors, followup_id, 422)
    messages = {
        "assign": N_("Assigned."),
        "done": N_("Marked as done."),
        "reopen": N_("Opened again."),
    }
    query = "&".join(f"{key}={value}" for key, value in back.items() if value)
    return see_other(f"{_path(org)}?{query}", translate(request, messages[action]))


def followup_pages() -> list[Any]:
    """The inbox's handlers (its menu entry is :data:`FOLLOWUP_MENU`)."""
    return [followups_page, followup_change]
