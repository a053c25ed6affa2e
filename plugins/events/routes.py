"""Routes of the events module (mounted under ``/api/orgs/{org_id}/events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, delete, get, patch, post

from core.api import (
    ETAG_HEADERS,
    PRECONDITION_RESPONSES,
    Actor,
    IfMatch,
    OrgScope,
    Page,
    check_if_match,
    db,
    get_in_org,
    invalid,
    not_found,
    page_in_org,
    requires,
    utcnow,
    with_etag,
)
from plugins.events import participation, services
from plugins.events.schemas import (
    CopyIn,
    EventIn,
    EventOut,
    EventPatch,
    ParticipantIn,
    ParticipantOut,
    ParticipantPatch,
    SeriesIn,
    State,
)
from plugins.events.tables import Event

__all__ = ["handlers", "participant_out", "with_name"]


@get("/", guards=[requires("events.view")], summary="Events of this unit")
async def list_events(org: OrgScope, limit: int = 50, cursor: str | None = None) -> Page[EventOut]:
    """Events of the unit, newest first, with their counts."""
    page = await page_in_org(Event, org, limit, cursor)
    return Page(await services.events_out(page.items), page.next_cursor)


@get("/calendar", guards=[requires("events.view")], summary="Events by start time")
async def calendar(
    org: OrgScope,
    starts_from: datetime | None = None,
    starts_before: datetime | None = None,
    event_state: State | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[EventOut]:
    """The unit's events starting from ``starts_from`` (default: now) and before
    ``starts_before``, by start time: what organizers plan with and callers sign people up for."""
    for name, value in (("starts_from", starts_from), ("starts_before", starts_before)):
        if value is not None and value.tzinfo is None:
            raise invalid(name, "needs a time zone offset")
    page = await services.calendar_page(
        org.id, starts_from or utcnow(), starts_before, event_state, limit, cursor
    )
    return Page(await services.events_out(page.items), page.next_cursor)


@post("/", guards=[requires("events.manage")], summary="Create an event")
async def create_event(org: OrgScope, data: EventIn) -> EventOut:
    """Create an event of this unit."""
    row = await services.create_event(org.id, org.path, data)
    return await services.event_out(row)


@get(
    "/{event_id:int}",
    guards=[requires("events.view")],
    summary="One event",
    response_headers=ETAG_HEADERS,
)
async def get_event(org: OrgScope, event_id: int) -> Response[EventOut]:
    """An event of this unit (404 for another unit's), with its ETag."""
    row = await get_in_org(Event, event_id, org, "event")
    return with_etag(await services.event_out(row), row)


@patch(
    "/{event_id:int}",
    guards=[requires("events.manage")],
    summary="Change an event",
    response_headers=ETAG_HEADERS,
    responses=PRECONDITION_RESPONSES,
)
async def update_event(
    org: OrgScope, event_id: int, data: EventPatch, if_match: IfMatch = None
) -> Response[EventOut]:
    """Change an event; a new time or place and a cancellation are mailed to participants.
    Send the ETag you read as ``If-Match``: 412 if someone changed the event since."""
    async with db.transaction():
        row = await get_in_org(Event, event_id, org, "event")
        await check_if_match(if_match, Event, row)
        new = await services.update_event(row, org.path, data)
    return with_etag(await services.event_out(new), new)


@delete("/{event_id:int}", guards=[requires("events.manage")], summary="Delete an event")
async def delete_event(org: OrgScope, event_id: int) -> None:
    """Delete a draft or an event without participants (otherwise cancel it)."""
    row = await get_in_org(Event, event_id, org, "event")
    await services.delete_event(row)


@post("/{event_id:int}/copy", guards=[requires("events.manage")], summary="Copy an event")
async def copy_event(org: OrgScope, event_id: int, data: CopyIn) -> EventOut:
    """A draft copy at a new start time, without participants."""
    row = await get_in_org(Event, event_id, org, "event")
    new = await services.copy_event(row, data.start_at)
    return await services.event_out(new)


@post("/{event_id:int}/series", guards=[requires("events.manage")], summary="Repeat weekly")
async def repeat_weekly(org: OrgScope, event_id: int, data: SeriesIn) -> list[EventOut]:
    """Create ``weeks`` weekly copies at the same local time, as one series."""
    row = await get_in_org(Event, event_id, org, "event")
    created = await services.repeat_weekly(row, data.weeks)
    return await services.events_out(created)


def participant_out(row: dict[str, Any]) -> ParticipantOut:
    """A participation row (with the person's names) in the API shape."""
    return ParticipantOut(
        id=row["id"],
        event_id=row["event_id"],
        person_id=row["person_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        status=row["status"],
        attendance=row["attendance"],
        source=row["source"],
        confirmed=row["confirmed_at"] is not None,
        created_at=row["created_at"],
        shift_id=row.get("shift_id"),
    )


@get(
    "/{event_id:int}/participants",
    guards=[requires("events.view")],
    summary="Participants of an event",
)
async def list_participants(
    request: Request,
    actor: Actor,
    org: OrgScope,
    event_id: int,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[ParticipantOut]:
    """Who signed up, was booked, waits or cancelled, and who came (keyset pages; each page
    audited with the ids shown)."""
    await get_in_org(Event, event_id, org, "event")
    page = await participation.read_participants(request, actor, org.id, event_id, limit, cursor)
    return Page([participant_out(r) for r in page.items], page.next_cursor)


async def with_name(row: dict[str, Any]) -> ParticipantOut:
    """A participation row in the API shape, with the person's names looked up."""
    person = await services.person_names(row["person_id"])
    return participant_out({**row, **person})


@post(
    "/{event_id:int}/participants",
    guards=[requires("events.signup")],
    summary="Sign a person up (organizers, callers during a call)",
)
async def add_participant(
    actor: Actor, org: OrgScope, event_id: int, data: ParticipantIn
) -> Response[ParticipantOut]:
    """Sign up or book a person of this unit's subtree (201 new, 200 when already there).

    Booking needs ``events.manage``; a caller signs people up with ``source: call``.
    """
    await get_in_org(Event, event_id, org, "event")
    may_book = actor.can("events.manage", org.path)
    row, changed = await participation.add_to_event(
        org.id, org.path, event_id, data, may_book=may_book
    )
    return Response(await with_name(row), status_code=201 if changed else 200)


async def _participation_in(org: OrgScope, event_id: int, participation_id: int) -> dict:
    await get_in_org(Event, event_id, org, "event")
    row = await participation.get_participation(participation_id)
    if row is None or row["event_id"] != event_id:
        raise not_found("participation")
    return row


@patch(
    "/{event_id:int}/participants/{participation_id:int}",
    guards=[requires("events.manage")],
    summary="Book, cancel or record attendance",
)
async def update_participant(
    org: OrgScope, event_id: int, participation_id: int, data: ParticipantPatch
) -> ParticipantOut:
    """Change a participation's status (capacity checked) and/or its attendance."""
    row = await _participation_in(org, event_id, participation_id)
    row = await participation.change_participation(org.id, row, data)
    return await with_name(row)


def handlers() -> list:
    """Route handlers of the events module."""
    return [
        list_events,
        calendar,
        create_event,
        get_event,
        update_event,
        delete_event,
        copy_event,
        repeat_weekly,
        list_participants,
        add_participant,
        update_participant,
    ]
