"""Routes of an event's shifts (under ``/api/orgs/{org_id}/events/{event_id}/shifts``): list,
add, change, remove, and sign a person up for one or more shifts."""

from __future__ import annotations

from litestar import Response, delete, get, patch, post

from core.api import Actor, OrgScope, get_in_org, requires
from plugins.events import participation, shifts
from plugins.events.routes import with_name
from plugins.events.schemas import ParticipantOut
from plugins.events.shift_schemas import ShiftIn, ShiftOut, ShiftPatch, ShiftSignupIn
from plugins.events.tables import Event

__all__ = ["shift_handlers"]

_BASE = "/{event_id:int}/shifts"


@get(
    _BASE,
    guards=[requires("events.view")],
    summary="Shifts of an event (at most 50, bounded, not paged)",
)
async def list_shifts(org: OrgScope, event_id: int) -> list[ShiftOut]:
    """The event's shifts by start time, each with its counts."""
    await get_in_org(Event, event_id, org, "event")
    return await shifts.shifts_out(event_id)


@post(_BASE, guards=[requires("events.manage")], summary="Add a shift")
async def create_shift(org: OrgScope, event_id: int, data: ShiftIn) -> ShiftOut:
    """Add a time slot within the event's time, with its own capacity."""
    event = await get_in_org(Event, event_id, org, "event")
    row = await shifts.create_shift(org.id, event, data)
    return await shifts.shift_out(row)


@get(_BASE + "/{shift_id:int}", guards=[requires("events.view")], summary="One shift")
async def get_shift(org: OrgScope, event_id: int, shift_id: int) -> ShiftOut:
    """A shift of the event with its counts (404 for another event's)."""
    await get_in_org(Event, event_id, org, "event")
    return await shifts.shift_out(await shifts.get_shift(event_id, shift_id))


@patch(_BASE + "/{shift_id:int}", guards=[requires("events.manage")], summary="Change a shift")
async def update_shift(org: OrgScope, event_id: int, shift_id: int, data: ShiftPatch) -> ShiftOut:
    """Change a shift's time, title, capacity or waiting list."""
    event = await get_in_org(Event, event_id, org, "event")
    row = await shifts.get_shift(event_id, shift_id)
    return await shifts.shift_out(await shifts.update_shift(org.id, event, row, data))


@delete(_BASE + "/{shift_id:int}", guards=[requires("events.manage")], summary="Remove a shift")
async def delete_shift(org: OrgScope, event_id: int, shift_id: int) -> None:
    """Remove a shift nobody is signed up for (409 otherwise)."""
    event = await get_in_org(Event, event_id, org, "event")
    await shifts.delete_shift(org.id, event, await shifts.get_shift(event_id, shift_id))


@post(
    _BASE + "/signups",
    guards=[requires("events.signup")],
    summary="Sign a person up for shifts",
)
async def sign_up_for_shifts(
    actor: Actor, org: OrgScope, event_id: int, data: ShiftSignupIn
) -> Response[list[ParticipantOut]]:
    """One participation per shift in ``shift_ids``, all or none (201 when any is new, 200
    when all were there). A full shift puts the person on its waiting list, or refuses the
    sign-up (409 on ``shift_ids``) when it has none."""
    await get_in_org(Event, event_id, org, "event")
    results = await participation.add_to_shifts(
        org.id,
        org.path,
        event_id,
        data.person_id,
        data.shift_ids,
        data.status,
        data.source,
        may_book=actor.can("events.manage", org.path),
    )
    body = [await with_name(row) for row, _changed in results]
    new = any(changed for _row, changed in results)
    return Response(body, status_code=201 if new else 200)


def shift_handlers() -> list:
    """Route handlers of the events' shifts."""
    return [list_shifts, create_shift, get_shift, update_shift, delete_shift, sign_up_for_shifts]
