"""The console's shift page of an event (``/app/orgs/{org_id}/events/{event_id}/shifts``):
the shifts with their counts, add, change and remove them through forms.

Thin like the JSON routes in ``shift_routes.py``: each handler reads the form and calls the
same service (:mod:`plugins.events.shifts`), which audits its own operation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post

from core.api import (
    N_,
    OrgScope,
    Problem,
    console_form_errors,
    form_int,
    get_in_org,
    invalid,
    render_console,
    requires,
    see_other,
    translate,
)
from plugins.events import shifts
from plugins.events.shift_schemas import ShiftIn, ShiftPatch
from plugins.events.tables import Event

__all__ = ["event_crumbs", "shift_pages"]

MANAGE = [requires("events.manage")]
FIELDS = ("start_at", "end_at", "title", "capacity", "waiting_list")


def event_crumbs(
    request: Request, org: OrgScope, event: dict[str, Any], *more: tuple[str, str]
) -> list[tuple[str, str]]:
    """Breadcrumbs: the unit's events, the event, then ``more``."""
    base = f"/app/orgs/{org.id}/events"
    return [(translate(request, "Events"), base), (event["title"], f"{base}/{event['id']}"), *more]


def _base(org: OrgScope, event_id: int) -> str:
    return f"/app/orgs/{org.id}/events/{event_id}/shifts"


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _values(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A stored shift as the form shows it."""
    return {
        "start_at": _local(row["start_at"], zone),
        "end_at": _local(row["end_at"], zone),
        "title": row["title"],
        "capacity": "" if row["capacity"] is None else str(row["capacity"]),
        "waiting_list": bool(row["waiting_list"]),
    }


def _typed(form: Any) -> dict[str, Any]:
    """The form's values as typed (shown again with errors)."""
    return {
        "start_at": (form.get("start_at") or "").strip(),
        "end_at": (form.get("end_at") or "").strip(),
        "title": (form.get("title") or "").strip(),
        "capacity": (form.get("capacity") or "").strip(),
        "waiting_list": form.get("waiting_list") == "yes",
    }


def _parsed(form: Any, values: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The API's input from the form (times in the event's zone).

    Raises:
        Problem: 422 naming the field of a date or number that is none.
    """
    data: dict[str, Any] = {"title": values["title"], "waiting_list": values["waiting_list"]}
    for name in ("start_at", "end_at"):
        try:
            data[name] = datetime.fromisoformat(values[name]).replace(tzinfo=zone).isoformat()
        except ValueError:
            raise invalid(name, N_("Enter a date and a time.")) from None
    data["capacity"] = form_int(form, "capacity", 0) or None
    return data


async def _page(
    request: Request,
    org: OrgScope,
    event: dict[str, Any],
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    zone = ZoneInfo(event["timezone"])
    rows = await shifts.shift_rows(event["id"])
    counts = await shifts.shift_counts(event["id"], rows)
    start = _local(event["start_at"], zone)
    return await render_console(
        request,
        "events/shifts.html.jinja",
        status=status,
        title=translate(request, "Shifts"),
        breadcrumbs=event_crumbs(
            request, org, event, (translate(request, "Shifts"), _base(org, event["id"]))
        ),
        event=event,
        base=_base(org, event["id"]),
        participants=f"/app/orgs/{org.id}/events/{event['id']}/participants",
        checkin=f"/app/orgs/{org.id}/events/{event['id']}/checkin",
        rows=[{**row, "counts": counts[row["id"]]} for row in rows],
        zone=event["timezone"],
        values=values
        or {"start_at": start, "end_at": "", "title": "", "capacity": "", "waiting_list": True},
        errors=errors or {},
    )


@get("/{event_id:int}/shifts", guards=MANAGE)
async def shift_list(request: Request, org: OrgScope, event_id: int) -> Response[str]:
    """The event's shifts with their counts and the form to add one."""
    event = await get_in_org(Event, event_id, org, "event")
    return await _page(request, org, event)


def _errors(request: Request, exc: Exception) -> dict[str, str]:
    return console_form_errors(request, exc, FIELDS)


@post("/{event_id:int}/shifts", guards=MANAGE, status_code=303)
async def shift_create(request: Request, org: OrgScope, event_id: int) -> Response:
    """Add a shift (the same service as ``POST …/events/{id}/shifts``)."""
    event = await get_in_org(Event, event_id, org, "event")
    form = await request.form()
    values = _typed(form)
    try:
        data = _parsed(form, values, ZoneInfo(event["timezone"]))
        await shifts.create_shift(org.id, event, msgspec.convert(data, ShiftIn))
    except (msgspec.ValidationError, Problem) as exc:
        return await _page(
            request, org, event, values=values, errors=_errors(request, exc), status=422
        )
    return see_other(_base(org, event_id), translate(request, "Shift added."))


async def _form(
    request: Request,
    org: OrgScope,
    event: dict[str, Any],
    shift: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response[str]:
    title = translate(request, "Change the shift")
    action = f"{_base(org, event['id'])}/{shift['id']}"
    return await render_console(
        request,
        "events/shift_form.html.jinja",
        status=422 if errors else 200,
        title=title,
        breadcrumbs=event_crumbs(
            request,
            org,
            event,
            (translate(request, "Shifts"), _base(org, event["id"])),
            (title, action),
        ),
        action=action,
        base=_base(org, event["id"]),
        zone=event["timezone"],
        published=event["state"] == "published",
        values=values,
        errors=errors or {},
    )


@get("/{event_id:int}/shifts/{shift_id:int}", guards=MANAGE)
async def shift_edit(request: Request, org: OrgScope, event_id: int, shift_id: int) -> Response:
    """The shift's form, filled in."""
    event = await get_in_org(Event, event_id, org, "event")
    shift = await shifts.get_shift(event_id, shift_id)
    return await _form(request, org, event, shift, _values(shift, ZoneInfo(event["timezone"])))


@post("/{event_id:int}/shifts/{shift_id:int}", guards=MANAGE, status_code=303)
async def shift_update(request: Request, org: OrgScope, event_id: int, shift_id: int) -> Response:
    """Save the shift (the same service as ``PATCH …/shifts/{id}``)."""
    event = await get_in_org(Event, event_id, org, "event")
    shift = await shifts.get_shift(event_id, shift_id)
    form = await request.form()
    values = _typed(form)
    try:
        data = _parsed(form, values, ZoneInfo(event["timezone"]))
        await shifts.update_shift(org.id, event, shift, msgspec.convert(data, ShiftPatch))
    except (msgspec.ValidationError, Problem) as exc:
        return await _form(request, org, event, shift, values, _errors(request, exc))
    return see_other(_base(org, event_id), translate(request, "Shift saved."))


@post("/{event_id:int}/shifts/{shift_id:int}/remove", guards=MANAGE, status_code=303)
async def shift_remove(request: Request, org: OrgScope, event_id: int, shift_id: int) -> Response:
    """Remove a shift nobody is signed up for (else back with the reason)."""
    event = await get_in_org(Event, event_id, org, "event")
    shift = await shifts.get_shift(event_id, shift_id)
    try:
        await shifts.delete_shift(org.id, event, shift)
    except Problem as exc:
        message = _errors(request, exc).get("form") or next(iter(_errors(request, exc).values()))
        return see_other(_base(org, event_id), message, kind="error")
    return see_other(_base(org, event_id), translate(request, "Shift removed."))


def shift_pages() -> list:
    """The shift page's handlers."""
    return [shift_list, shift_create, shift_edit, shift_update, shift_remove]
