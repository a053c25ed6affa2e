"""Who is at an event, for the console: the participants list (organizers see contact
details, the event's contact person only what they need), the check-in list, check-in taps,
walk-ins and moving people up from the waiting list.

Data protection (Zetkin #3020): the event's contact person, a user who does not hold
``events.manage``, sees each participant's first and last name, status, shift and whether
they came, nothing else (no address, phone, source or confirmation); every list page is
audited as ``events.participants_read`` with the ids shown, whoever reads it.
"""

from __future__ import annotations

from typing import Any

from core.api import (
    N_,
    Actor,
    Page,
    PersonIn,
    check_limit,
    create_person,
    db,
    decode_cursor,
    forbidden,
    get_person_row,
    invalid,
    not_found,
    page_of,
    record,
    record_list,
)
from plugins.events import participation
from plugins.events.schemas import ParticipantIn, ParticipantPatch

__all__ = [
    "ADD_STATUSES",
    "FULL",
    "LIMITED",
    "STATUSES",
    "add_person",
    "add_walk_in",
    "checkin_rows",
    "move_up",
    "participant_in_event",
    "participant_rows",
    "toggle_checkin",
    "view_of",
]

FULL, LIMITED = "full", "limited"
STATUSES = ("signed_up", "booked", "waiting", "cancelled", "attended")
ADD_STATUSES = ("signed_up", "booked", "attended")
_NAME = 100


async def view_of(actor: Actor, org_path: str, event: dict[str, Any]) -> str:
    """``FULL`` for someone who manages the unit's events, ``LIMITED`` for the event's contact
    person (their user is linked to the event's contact person); else 403."""
    if actor.can("events.manage", org_path):
        return FULL
    if event["contact_person_id"] is not None:
        user = await db.fetch_one("SELECT person_id FROM orga_user WHERE id = {}", actor.user_id)
        if user and user["person_id"] == event["contact_person_id"]:
            return LIMITED
    raise forbidden("events.manage")


async def participant_in_event(event_id: int, participation_id: int) -> dict[str, Any]:
    """A participation of the event (404 for another event's)."""
    row = await participation.get_participation(participation_id)
    if row is None or row["event_id"] != event_id:
        raise not_found("participation")
    return row


def _columns(view: str) -> str:
    base = "pa.id, pa.person_id, pa.status, pa.attendance, pa.shift_id, p.first_name, p.last_name"
    if view == LIMITED:
        return base
    return (
        f"{base}, pa.source, pa.confirmed_at, p.email, "
        "(SELECT ph.e164 FROM person_phone ph WHERE ph.person_id = p.id "
        "ORDER BY ph.position LIMIT 1) AS phone"
    )


async def participant_rows(
    request: Any,
    actor: Actor,
    org_id: int,
    event_id: int,
    *,
    view: str,
    status: str | None,
    shift_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page (by sign-up) of the event's participants with the columns ``view``
    allows, filtered by status (``attended``: who came) and shift; audited as
    ``events.participants_read`` with the people shown."""
    check_limit(limit)
    where, args = ["pa.event_id = {}"], [event_id]
    if status == "attended":
        where.append("pa.attendance = 'attended'")
    elif status in STATUSES:
        where.append("pa.status = {}")
        args.append(status)
    if shift_id is not None:
        where.append("pa.shift_id = {}")
        args.append(shift_id)
    key = decode_cursor(cursor)
    if key:
        where.append("pa.id > {}")
        args.append(int(key[0]))
    rows = await db.fetch(
        f"SELECT {_columns(view)} FROM events_participation pa JOIN person p "
        f"ON p.id = pa.person_id WHERE {' AND '.join(where)} ORDER BY pa.id LIMIT {{}}",
        *args,
        limit + 1,
    )
    page = page_of(rows, limit, key=lambda r: [r["id"]])
    _audit_read(request, actor, org_id, event_id, page.items, status, shift_id, view)
    return page


def _audit_read(
    request: Any,
    actor: Actor,
    org_id: int,
    event_id: int,
    rows: list[dict[str, Any]],
    status: str | None,
    shift_id: int | None,
    view: str,
) -> None:
    record_list(
        request,
        "events.participants_read",
        actor,
        org_id,
        [row["person_id"] for row in rows],
        {"status": status, "shift_id": shift_id, "view": view},
        object_type="event",
        object_id=event_id,
    )


async def checkin_rows(
    request: Any,
    actor: Actor,
    org_id: int,
    event_id: int,
    *,
    q: str,
    shift_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """The check-in list: signed-up and booked people (and walk-ins) by last name, a name
    prefix ``q`` narrowing it; keyset pages; audited like the participants list."""
    check_limit(limit)
    where = ["pa.event_id = {}", "pa.status IN ('signed_up', 'booked')"]
    args: list[Any] = [event_id]
    if shift_id is not None:
        where.append("pa.shift_id = {}")
        args.append(shift_id)
    text = " ".join(q.lower().split())
    if text:
        where.append(
            "((p.first_key >= {} AND p.first_key < {}) OR (p.last_key >= {} AND p.last_key < {}))"
        )
        args += [text, text + "\U0010ffff"] * 2
    key = decode_cursor(cursor, tuple[str, int])
    if key:
        where.append("(p.last_key > {} OR (p.last_key = {} AND pa.id > {}))")
        args += [key[0], key[0], int(key[1])]
    rows = await db.fetch(
        "SELECT pa.id, pa.person_id, pa.status, pa.attendance, pa.shift_id, p.first_name, "
        "p.last_name, p.last_key FROM events_participation pa JOIN person p "
        f"ON p.id = pa.person_id WHERE {' AND '.join(where)} "
        "ORDER BY p.last_key, pa.id LIMIT {}",
        *args,
        limit + 1,
    )
    page = page_of(rows, limit, key=lambda r: [r["last_key"], r["id"]])
    _audit_read(request, actor, org_id, event_id, page.items, "checkin", shift_id, FULL)
    return page


async def toggle_checkin(org_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """One tap at the check-in: mark the participant as there, or take it back. Audited
    (``events.participant_changed``)."""
    attendance = None if row["attendance"] == "attended" else "attended"
    return await participation.change_participation(
        org_id, row, ParticipantPatch(attendance=attendance)
    )


async def move_up(org_id: int, row: dict[str, Any]) -> dict[str, Any]:
    """An organizer takes someone from the waiting list in, even when the event (or shift) is
    full. Audited (``events.participant_changed``)."""
    if row["status"] != "waiting":
        raise invalid("status", N_("Not on the waiting list."))
    new = await participation.set_status(row, "signed_up", over_capacity=True)
    await record(
        "events.participant_changed",
        org_id=org_id,
        object_type="participation",
        object_id=new["id"],
    )
    return new


async def add_walk_in(
    org_id: int,
    org_path: str,
    event_id: int,
    values: dict[str, str],
    shift_id: int | None,
    region: str,
) -> dict[str, Any]:
    """Someone came without signing up: a new person (core's people service, source
    ``event``; audited ``person.created``) booked and marked attended, also after the event
    (:func:`participation.record_walk_in`).

    Raises:
        Problem: 422 on ``first_name`` (a name is needed), ``email`` or ``phone`` (core's
            checks), 409 as :func:`participation.record_walk_in`.
    """
    first, last = values.get("first_name", "").strip(), values.get("last_name", "").strip()
    if not first and not last:
        raise invalid("first_name", N_("Please fill in this field."))
    for name, text in (("first_name", first), ("last_name", last)):
        if len(text) > _NAME:
            raise invalid(name, N_("This is too long."))
    email = values.get("email", "").strip() or None
    phone = values.get("phone", "").strip()
    data = PersonIn(
        first_name=first,
        last_name=last,
        email=email,
        phones=[phone] if phone else [],
        source="event",
    )
    async with db.transaction():
        person_id = await create_person(org_id, org_path, data, region)
        return await participation.record_walk_in(org_id, event_id, person_id, shift_id)


async def add_person(
    org_id: int,
    org_path: str,
    event_id: int,
    person_id: int,
    status: str,
    shift_id: int | None,
    *,
    may_book: bool,
) -> dict[str, Any]:
    """An organizer adds someone of the people database: signed up or booked (for the event
    or one shift, as the JSON routes do), or ``attended`` (they came: also after the event).

    Raises:
        Problem: 422 on ``status`` or ``person_id``; 409 as the services called.
    """
    if status not in ADD_STATUSES:
        raise invalid("status", N_("Please choose one of the options."))
    if status == "attended":
        if await get_person_row(person_id, org_path) is None:
            raise invalid("person_id", N_("No such person in this unit."))
        return await participation.record_walk_in(org_id, event_id, person_id, shift_id)
    if shift_id is not None:
        [(row, _changed)] = await participation.add_to_shifts(
            org_id,
            org_path,
            event_id,
            person_id,
            [shift_id],
            status,
            "organizer",
            may_book=may_book,
        )
        return row
    data = ParticipantIn(person_id=person_id, status=status)  # type: ignore[arg-type]
    row, _changed = await participation.add_to_event(
        org_id, org_path, event_id, data, may_book=may_book
    )
    return row
