"""The console's participant pages of an event (under ``/app/orgs/{org_id}/events/{id}``):

- ``/participants``: signed up, booked, waiting, cancelled, attended (filter by status and
  shift); add someone from the people database (search, then pick) or a walk-in; move
  someone up from the waiting list. The event's contact person sees a limited list
  (:mod:`plugins.events.attendees` says which fields).
- ``/checkin``: the phone check-in, one large button per person, a search box and a walk-in
  form; each tap is one small POST (post-redirect-get to the same row without JavaScript;
  console.js sends it with fetch and updates the row in place).

Thin: each handler reads the form and calls a service, which audits its own operation.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post

from core.api import (
    N_,
    Actor,
    OrgScope,
    Problem,
    console_form_errors,
    form_int,
    get_in_org,
    next_page_href,
    read_people_page,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.events import attendees, shifts
from plugins.events.shift_pages import event_crumbs
from plugins.events.tables import Event

__all__ = ["participant_pages"]

PAGE_SIZE = 50
CHECKIN_PAGE = 50
STATUS_LABELS = {
    "signed_up": N_("Signed up"),
    "booked": N_("Booked"),
    "waiting": N_("Waiting list"),
    "cancelled": N_("Cancelled"),
    "attended": N_("Attended"),
}
ADD_LABELS = {
    "signed_up": N_("Sign up"),
    "booked": N_("Book"),
    "attended": N_("Came (mark as attended)"),
}
WALK_IN_FIELDS = ("first_name", "last_name", "email", "phone", "shift_id")


def _paths(org: OrgScope, event_id: int) -> dict[str, str]:
    base = f"/app/orgs/{org.id}/events/{event_id}"
    return {
        "event": base,
        "participants": f"{base}/participants",
        "checkin": f"{base}/checkin",
        "shifts": f"{base}/shifts",
    }


def _shift_id(form: Any, field: str = "shift_id") -> int | None:
    return form_int(form, field, 0) or None


def _shift_labels(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}


async def _participants(
    request: Request,
    actor: Actor,
    org: OrgScope,
    event: dict[str, Any],
    *,
    status: str | None = None,
    shift: int | None = None,
    q: str = "",
    cursor: str | None = None,
    walk_in: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> Response[str]:
    view = await attendees.view_of(actor, org.path, event)
    status = status if status in attendees.STATUSES else None
    page = await attendees.participant_rows(
        request,
        actor,
        org.id,
        event["id"],
        view=view,
        status=status,
        shift_id=shift,
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    shift_rows = await shifts.shift_rows(event["id"])
    found = []
    if view == attendees.FULL and q.strip() and actor.can("people.view", org.path):
        people = await read_people_page(
            request,
            actor,
            org.id,
            org.path,
            q=q,
            member_status=None,
            tag=None,
            limit=10,
            cursor=None,
            region=request.app.state.orga.settings.default_region,
        )
        found = people.items
    paths = _paths(org, event["id"])
    title = translate(request, "Participants")
    return await render_console(
        request,
        "events/participants.html.jinja",
        status=code,
        title=title,
        breadcrumbs=event_crumbs(request, org, event, (title, paths["participants"])),
        event=event,
        paths=paths,
        full=view == attendees.FULL,
        rows=page.items,
        shifts=shift_rows,
        shift_of=_shift_labels(shift_rows),
        chosen=status or "",
        shift=shift or 0,
        q=q,
        found=found,
        status_labels=STATUS_LABELS,
        add_labels=ADD_LABELS,
        walk_in=walk_in or {},
        errors=errors or {},
        next_href=next_page_href(
            paths["participants"], page.next_cursor, status=status, shift=shift
        ),
    )


@get("/{event_id:int}/participants", guards=[requires("events.view")])
async def participant_list(
    request: Request,
    actor: Actor,
    org: OrgScope,
    event_id: int,
    status: str | None = None,
    shift: int | None = None,
    q: str = "",
    cursor: str | None = None,
) -> Response[str]:
    """The event's participants (organizers: with contact details, adding and moving up; the
    event's contact person: names and status only)."""
    event = await get_in_org(Event, event_id, org, "event")
    return await _participants(
        request, actor, org, event, status=status, shift=shift, q=q, cursor=cursor
    )


def _error_text(request: Request, exc: Problem) -> str:
    errors = console_form_errors(request, exc, ())
    return errors.get("form") or next(iter(errors.values()), "")


@post("/{event_id:int}/participants/add", guards=[requires("events.manage")], status_code=303)
async def participant_add(request: Request, actor: Actor, org: OrgScope, event_id: int) -> Response:
    """Add someone picked from the people database as signed up, booked or attended."""
    await get_in_org(Event, event_id, org, "event")
    form = await request.form()
    back = _paths(org, event_id)["participants"]
    try:
        await attendees.add_person(
            org.id,
            org.path,
            event_id,
            form_int(form, "person_id"),
            form.get("status") or "",
            _shift_id(form),
            may_book=True,
        )
    except Problem as exc:
        return see_other(back, _error_text(request, exc), kind="error")
    return see_other(back, translate(request, "Added to the event."))


@post(
    "/{event_id:int}/participants/{participation_id:int}/move-up",
    guards=[requires("events.manage")],
    status_code=303,
)
async def participant_move_up(
    request: Request, org: OrgScope, event_id: int, participation_id: int
) -> Response:
    """Take someone in from the waiting list (even when the event or shift is full)."""
    await get_in_org(Event, event_id, org, "event")
    row = await attendees.participant_in_event(event_id, participation_id)
    back = _paths(org, event_id)["participants"]
    try:
        await attendees.move_up(org.id, row)
    except Problem as exc:
        return see_other(back, _error_text(request, exc), kind="error")
    return see_other(back, translate(request, "Moved up from the waiting list."))


def _walk_in_values(form: Any) -> dict[str, Any]:
    return {name: (form.get(name) or "").strip() for name in WALK_IN_FIELDS}


async def _walk_in(request: Request, org: OrgScope, event: dict[str, Any]) -> Any:
    """Add a walk-in from the form; the form's values and errors when it fails."""
    form = await request.form()
    values = _walk_in_values(form)
    try:
        await attendees.add_walk_in(
            org.id,
            org.path,
            event["id"],
            values,
            _shift_id(form),
            request.app.state.orga.settings.default_region,
        )
    except Problem as exc:
        return values, console_form_errors(request, exc, WALK_IN_FIELDS)
    return values, None


@post("/{event_id:int}/participants/walk-in", guards=[requires("events.manage")], status_code=303)
async def participant_walk_in(
    request: Request, actor: Actor, org: OrgScope, event_id: int
) -> Response:
    """Add someone who came without signing up (a new person, marked attended)."""
    event = await get_in_org(Event, event_id, org, "event")
    values, errors = await _walk_in(request, org, event)
    if errors:
        return await _participants(
            request, actor, org, event, walk_in=values, errors=errors, code=422
        )
    return see_other(_paths(org, event_id)["participants"], translate(request, "Walk-in added."))


async def _checkin(
    request: Request,
    actor: Actor,
    org: OrgScope,
    event: dict[str, Any],
    *,
    q: str = "",
    shift: int | None = None,
    cursor: str | None = None,
    walk_in: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> Response[str]:
    page = await attendees.checkin_rows(
        request,
        actor,
        org.id,
        event["id"],
        q=q,
        shift_id=shift,
        limit=CHECKIN_PAGE,
        cursor=cursor,
    )
    shift_rows = await shifts.shift_rows(event["id"])
    paths = _paths(org, event["id"])
    title = translate(request, "Check-in")
    return await render_console(
        request,
        "events/checkin.html.jinja",
        status=code,
        title=title,
        breadcrumbs=event_crumbs(request, org, event, (title, paths["checkin"])),
        event=event,
        paths=paths,
        rows=page.items,
        shifts=shift_rows,
        shift_of=_shift_labels(shift_rows),
        q=q,
        shift=shift or 0,
        walk_in=walk_in or {},
        errors=errors or {},
        next_href=next_page_href(paths["checkin"], page.next_cursor, q=q, shift=shift),
    )


@get("/{event_id:int}/checkin", guards=[requires("events.manage")])
async def checkin_list(
    request: Request,
    actor: Actor,
    org: OrgScope,
    event_id: int,
    q: str = "",
    shift: int | None = None,
    cursor: str | None = None,
) -> Response[str]:
    """The check-in list for a phone: search, one button per person, walk-ins."""
    event = await get_in_org(Event, event_id, org, "event")
    return await _checkin(request, actor, org, event, q=q, shift=shift, cursor=cursor)


def _back_to_list(org: OrgScope, event_id: int, form: Any, anchor: str = "") -> str:
    """The check-in list as it was (search and shift kept), at the row tapped."""
    query = {k: form.get(k) for k in ("q", "shift") if (form.get(k) or "").strip() not in ("", "0")}
    path = _paths(org, event_id)["checkin"]
    return f"{path}?{urlencode(query)}{anchor}" if query else f"{path}{anchor}"


@post("/{event_id:int}/checkin/{participation_id:int}", guards=[requires("events.manage")])
async def checkin_tap(
    request: Request, org: OrgScope, event_id: int, participation_id: int
) -> Response:
    """One tap: checked in, or taken back. Answers a script (``Accept: application/json``)
    with the row's new state, a form with 303 back to the same row."""
    await get_in_org(Event, event_id, org, "event")
    row = await attendees.participant_in_event(event_id, participation_id)
    form = await request.form()
    back = _back_to_list(org, event_id, form, f"#p-{participation_id}")
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        row = await attendees.toggle_checkin(org.id, row)
    except Problem as exc:
        if wants_json:
            return Response({"error": _error_text(request, exc)}, status_code=exc.status)
        return see_other(back, _error_text(request, exc), kind="error")
    attended = row["attendance"] == "attended"
    if wants_json:
        return Response({"id": row["id"], "attended": attended}, status_code=200)
    return see_other(back)


@post("/{event_id:int}/checkin/walk-in", guards=[requires("events.manage")], status_code=303)
async def checkin_walk_in(request: Request, actor: Actor, org: OrgScope, event_id: int) -> Response:
    """Add a walk-in at the door (a new person, checked in)."""
    event = await get_in_org(Event, event_id, org, "event")
    values, errors = await _walk_in(request, org, event)
    if errors:
        return await _checkin(request, actor, org, event, walk_in=values, errors=errors, code=422)
    return see_other(_paths(org, event_id)["checkin"], translate(request, "Walk-in added."))


def participant_pages() -> list:
    """The participants and check-in pages' handlers."""
    return [
        participant_list,
        participant_add,
        participant_move_up,
        participant_walk_in,
        checkin_list,
        checkin_tap,
        checkin_walk_in,
    ]
