"""Participation: sign-ups, bookings, the waiting list, cancellation and attendance.

Capacity counts signed-up and booked people. When an event is full a new sign-up goes to the
waiting list; when a place frees up the longest waiting person moves up and is told by mail.
An event's shifts each have their own capacity and waiting list: a participation with a
``shift_id`` takes a place in that shift (one row per shift, so one person may hold several
shifts of an event), one without takes a place of the event itself.
Every change runs in one transaction that first locks the event row (PostgreSQL) or holds
SQLite's write lock, so two sign-ups never take the last place twice.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.api import (
    N_,
    Actor,
    Page,
    check_limit,
    confirm_person,
    conflict,
    current_runtime,
    db,
    decode_cursor,
    get_person_row,
    invalid,
    page_of,
    record,
    record_list,
    utcnow,
)
from plugins.events import notify
from plugins.events.links import cancel_url, confirm_url, mail_event, when_text, with_shift
from plugins.events.schemas import ParticipantIn, ParticipantPatch
from plugins.events.tables import Participation

__all__ = [
    "ACTIVE",
    "CHECK_IN_EARLY",
    "add_participant",
    "add_shifts",
    "add_to_event",
    "add_to_shifts",
    "cancel_participation",
    "change_participation",
    "confirm_participation",
    "get_participation",
    "participants_page",
    "promote",
    "read_participants",
    "record_walk_in",
    "send_confirmation",
    "set_attendance",
    "set_status",
]

ACTIVE = ("signed_up", "booked")
CHECK_IN_EARLY = timedelta(hours=1)  # attendance can be recorded from an hour before the start


async def _lock_event(event_id: int) -> dict[str, Any]:
    lock = " FOR UPDATE" if db.is_postgres() else ""
    row = await db.fetch_one(
        f"SELECT id, capacity, state, start_at, end_at FROM events_event WHERE id = {{}}{lock}",
        event_id,
    )
    assert row is not None
    return row


def _in_place(shift_id: int | None) -> tuple[str, list[Any]]:
    """The condition for the participations of one shift, or of the event itself."""
    return ("shift_id IS NULL", []) if shift_id is None else ("shift_id = {}", [shift_id])


async def _active_count(event_id: int, shift_id: int | None = None) -> int:
    where, args = _in_place(shift_id)
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM events_participation "
        f"WHERE event_id = {{}} AND {where} AND status IN ('signed_up', 'booked')",
        event_id,
        *args,
    )
    return int(row["n"]) if row else 0


async def _place(event: dict[str, Any], shift_id: int | None) -> tuple[int | None, bool]:
    """The capacity of the shift (or of the event itself) and whether it has a waiting list.

    Raises:
        Problem: 422 on ``shift_ids`` for a shift that is not the event's.
    """
    if shift_id is None:
        return event["capacity"], True
    shift = await db.fetch_one(
        "SELECT capacity, waiting_list FROM events_shift WHERE id = {} AND event_id = {}",
        shift_id,
        event["id"],
    )
    if shift is None:
        raise invalid("shift_ids", N_("No such shift of this event."))
    return shift["capacity"], bool(shift["waiting_list"])


async def _full(event: dict[str, Any], shift_id: int | None) -> tuple[bool, bool]:
    """Whether the shift (or the event itself) is full, and whether it has a waiting list."""
    capacity, waiting_list = await _place(event, shift_id)
    full = capacity is not None and await _active_count(event["id"], shift_id) >= capacity
    return full, waiting_list


async def get_participation(participation_id: int) -> dict[str, Any] | None:
    """A participation row with raw column names (``event_id``, ``person_id``)."""
    return await db.fetch_one("SELECT * FROM events_participation WHERE id = {}", participation_id)


async def _write(existing: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    if existing is None:
        rows = await Participation.insert(
            Participation(
                event=values["event_id"],
                person=values["person_id"],
                status=values["status"],
                source=values["source"],
                confirmed_at=values.get("confirmed_at"),
                shift=values.get("shift_id"),
            )
        ).run()
        pid = rows[0]["id"]
    else:
        pid = existing["id"]
        await db.execute(
            "UPDATE events_participation SET status = {}, source = {}, confirmed_at = {}, "
            "cancelled_at = NULL, updated_at = {} WHERE id = {}",
            values["status"],
            values["source"],
            values.get("confirmed_at"),
            now,
            pid,
        )
    row = await get_participation(pid)
    assert row is not None
    return row


async def add_participant(
    event_id: int,
    person_id: int,
    status: str,
    source: str,
    *,
    confirmed: bool = True,
    shift_id: int | None = None,
) -> tuple[dict[str, Any], bool]:
    """Sign up (``signed_up``) or book (``booked``) a person for the event or one shift of
    it; returns the row and whether it changed. A sign-up for a full event or shift joins its
    waiting list (a full shift without one refuses: 409 on ``shift_ids``); booking into a
    full one is refused (409). Signing up someone already signed up or booked changes
    nothing."""
    async with db.transaction():
        event = await _lock_event(event_id)
        if event["state"] != "published":
            raise conflict("Only published events take sign-ups.", field="state")
        if event["end_at"] <= utcnow():
            raise conflict("The event is over.", field="event_id")
        where, args = _in_place(shift_id)
        existing = await db.fetch_one(
            "SELECT * FROM events_participation WHERE event_id = {} AND person_id = {} "
            f"AND {where}",
            event_id,
            person_id,
            *args,
        )
        if existing and existing["status"] in ACTIVE:
            if status == "booked" and existing["status"] != "booked":
                row = await _write(existing, {**existing, "status": "booked"})
                await notify.remind_late_booking(event_id, row["id"])
                return row, True
            return existing, False
        full, waiting_list = await _full(event, shift_id)
        if full and status == "booked":
            raise conflict(N_("The event is full."), field="status")
        if full and not waiting_list:
            raise conflict(N_("This shift is full."), field="shift_ids")
        if existing and existing["status"] == "waiting" and full:
            return existing, False
        values = {
            "event_id": event_id,
            "person_id": person_id,
            "status": "waiting" if full else status,
            "source": source,
            "confirmed_at": utcnow() if confirmed else None,
            "shift_id": shift_id,
        }
        row = await _write(existing, values)
        if row["status"] == "booked":
            await notify.remind_late_booking(event_id, row["id"])
        return row, True


async def add_shifts(
    event_id: int,
    person_id: int,
    shift_ids: list[int],
    status: str,
    source: str,
    *,
    confirmed: bool = True,
) -> list[tuple[dict[str, Any], bool]]:
    """:func:`add_participant` for each of ``shift_ids`` (one participation per shift), all
    or none: a full shift without waiting list refuses the whole sign-up.

    Raises:
        Problem: 422 on ``shift_ids`` when it is empty or names another event's shift; 409
            as :func:`add_participant`.
    """
    if not shift_ids:
        raise invalid("shift_ids", N_("Please pick at least one shift."))
    async with db.transaction():
        return [
            await add_participant(
                event_id, person_id, status, source, confirmed=confirmed, shift_id=shift_id
            )
            for shift_id in dict.fromkeys(shift_ids)
        ]


async def add_to_event(
    org_id: int, org_path: str, event_id: int, data: ParticipantIn, *, may_book: bool
) -> tuple[dict[str, Any], bool]:
    """An organizer (or a caller during a call) signs up or books a person of the unit
    ``org_path``'s subtree for an event of unit ``org_id``: :func:`add_participant`, audited
    (``events.participant_added``). ``may_book``: whether the actor may book.

    Raises:
        Problem: 422 on ``status`` for a booking without ``may_book``, on ``person_id`` for a
            person outside the subtree; 409 as :func:`add_participant`.
    """
    if data.status == "booked" and not may_book:
        raise invalid("status", "booking needs the events.manage permission")
    if await get_person_row(data.person_id, org_path) is None:
        raise invalid("person_id", "no such person in this unit")
    row, changed = await add_participant(event_id, data.person_id, data.status, data.source)
    await _audit("events.participant_added", org_id, row["id"])
    return row, changed


async def add_to_shifts(
    org_id: int,
    org_path: str,
    event_id: int,
    person_id: int,
    shift_ids: list[int],
    status: str,
    source: str,
    *,
    may_book: bool,
) -> list[tuple[dict[str, Any], bool]]:
    """:func:`add_to_event` for shifts: sign a person of the subtree up for (or book them
    into) ``shift_ids`` of the event (:func:`add_shifts`, all or none), each participation
    audited (``events.participant_added``)."""
    if status == "booked" and not may_book:
        raise invalid("status", "booking needs the events.manage permission")
    if await get_person_row(person_id, org_path) is None:
        raise invalid("person_id", "no such person in this unit")
    results = await add_shifts(event_id, person_id, shift_ids, status, source)
    for row, _changed in results:
        await _audit("events.participant_added", org_id, row["id"])
    return results


async def _audit(action: str, org_id: int, participation_id: int) -> None:
    await record(action, org_id=org_id, object_type="participation", object_id=participation_id)


async def change_participation(
    org_id: int, row: dict[str, Any], data: ParticipantPatch
) -> dict[str, Any]:
    """Apply an organizer's change of status (:func:`set_status`) and/or attendance
    (:func:`set_attendance`) to a participation of an event of unit ``org_id``; audited
    (``events.participant_changed``).

    Raises:
        Problem: 409 on ``attendance`` for someone on the waiting list, and as the setters.
    """
    if isinstance(data.status, str):
        row = await set_status(row, data.status)
    if data.attendance is None or isinstance(data.attendance, str):
        if row["status"] == "waiting" and data.attendance is not None:
            raise conflict(N_("People on the waiting list were not expected."), field="attendance")
        row = await set_attendance(row, data.attendance)
    await _audit("events.participant_changed", org_id, row["id"])
    return row


async def promote(event_id: int, shift_id: int | None) -> None:
    """Move the longest waiting person of the shift (or of the event itself) up when a place
    is free, and tell them. Runs inside the caller's transaction."""
    event = await _lock_event(event_id)
    full, _waiting_list = await _full(event, shift_id)
    if full:
        return
    where, args = _in_place(shift_id)
    waiting = await db.fetch_one(
        "SELECT * FROM events_participation WHERE event_id = {} AND status = 'waiting' "
        f"AND {where} ORDER BY id LIMIT 1",
        event_id,
        *args,
    )
    if waiting is None:
        return
    await db.execute(
        "UPDATE events_participation SET status = 'signed_up', updated_at = {} WHERE id = {}",
        utcnow(),
        waiting["id"],
    )
    await _mail(waiting, "mail/events_promoted", f"events.promoted:{waiting['id']}")


async def cancel_participation(row: dict[str, Any]) -> dict[str, Any]:
    """Cancel (by the person or an organizer); a freed place goes to the waiting list."""
    async with db.transaction():
        await _lock_event(row["event_id"])
        current = await get_participation(row["id"])
        assert current is not None
        if current["status"] == "cancelled":
            return current
        await db.execute(
            "UPDATE events_participation SET status = 'cancelled', cancelled_at = {}, "
            "updated_at = {} WHERE id = {}",
            utcnow(),
            utcnow(),
            row["id"],
        )
        if current["status"] in ACTIVE:
            await promote(row["event_id"], current["shift_id"])
    new = await get_participation(row["id"])
    assert new is not None
    return new


async def set_status(
    row: dict[str, Any], status: str, *, over_capacity: bool = False
) -> dict[str, Any]:
    """An organizer moves a participation to ``status`` (capacity is checked on the way in,
    unless the organizer takes someone in ``over_capacity`` from the waiting list)."""
    if status == "cancelled":
        return await cancel_participation(row)
    async with db.transaction():
        event = await _lock_event(row["event_id"])
        current = await get_participation(row["id"])
        assert current is not None
        joining = status in ACTIVE and current["status"] not in ACTIVE
        if joining and not over_capacity and (await _full(event, current["shift_id"]))[0]:
            raise conflict(N_("The event is full."), field="status")
        await db.execute(
            "UPDATE events_participation SET status = {}, cancelled_at = NULL, updated_at = {} "
            "WHERE id = {}",
            status,
            utcnow(),
            row["id"],
        )
        if current["status"] in ACTIVE and status not in ACTIVE:
            await promote(row["event_id"], current["shift_id"])
        if status == "booked" and current["status"] != "booked":
            await notify.remind_late_booking(row["event_id"], row["id"])
    new = await get_participation(row["id"])
    assert new is not None
    return new


async def record_walk_in(
    org_id: int, event_id: int, person_id: int, shift_id: int | None
) -> dict[str, Any]:
    """Someone came: book them (into ``shift_id``) and mark them attended, whether they had
    signed up or not, full or not and also after the event (a walk-in or a late entry at the
    check-in). Audited (``events.participant_added``).

    Raises:
        Problem: 409 on ``state`` for an event that was never published or is cancelled;
            422 on ``shift_ids`` for a shift that is not the event's.
    """
    async with db.transaction():
        event = await _lock_event(event_id)
        if event["state"] != "published":
            raise conflict("Only published events take sign-ups.", field="state")
        await _place(event, shift_id)
        where, args = _in_place(shift_id)
        existing = await db.fetch_one(
            "SELECT * FROM events_participation WHERE event_id = {} AND person_id = {} "
            f"AND {where}",
            event_id,
            person_id,
            *args,
        )
        source = existing["source"] if existing else "walk_in"
        values = {"event_id": event_id, "person_id": person_id, "shift_id": shift_id}
        row = await _write(
            existing,
            {**values, "status": "booked", "source": source, "confirmed_at": utcnow()},
        )
        await db.execute(
            "UPDATE events_participation SET attendance = 'attended' WHERE id = {}", row["id"]
        )
        await _audit("events.participant_added", org_id, row["id"])
    new = await get_participation(row["id"])
    assert new is not None
    return new


async def set_attendance(row: dict[str, Any], attendance: str | None) -> dict[str, Any]:
    """Record attended / no-show (or clear it) from an hour before the event's start (people
    arrive early at the check-in)."""
    event = await _lock_event(row["event_id"])
    if attendance is not None and event["start_at"] - CHECK_IN_EARLY > utcnow():
        raise conflict(
            N_("Attendance is recorded from an hour before the start."), field="attendance"
        )
    await db.execute(
        "UPDATE events_participation SET attendance = {}, updated_at = {} WHERE id = {}",
        attendance,
        utcnow(),
        row["id"],
    )
    new = await get_participation(row["id"])
    assert new is not None
    return new


async def confirm_participation(row: dict[str, Any], registry: Any) -> dict[str, Any] | None:
    """Mark a public sign-up as confirmed by its mailed link (repeating it changes nothing);
    the person's other unconfirmed participations in the event (more shifts picked in the
    same sign-up) are confirmed with it.

    The link went to the address the visitor gave, so the person's pending record is
    confirmed too (core's ``confirm_person``: merged into the confirmed person with that
    address, if there is one). Returns the participation as it stands afterwards, which
    after a merge is the kept person's participation in the event.
    """
    now = utcnow()
    async with db.transaction():
        await db.execute(
            "UPDATE events_participation SET confirmed_at = {}, updated_at = {} "
            "WHERE event_id = {} AND person_id = {} AND confirmed_at IS NULL",
            now,
            now,
            row["event_id"],
            row["person_id"],
        )
        person_id = await confirm_person(
            row["person_id"], registry, f"events.confirm:{row['event_id']}:{now.isoformat()}"
        )
        if person_id is None:
            return None
        where, args = _in_place(row["shift_id"])
        return await db.fetch_one(
            "SELECT * FROM events_participation WHERE event_id = {} AND person_id = {} "
            f"AND {where}",
            row["event_id"],
            person_id,
            *args,
        )


async def _mail(
    row: dict[str, Any],
    template: str,
    dedupe_key: str | None,
    locale: str | None = None,
    **extra: Any,
) -> None:
    person = await db.fetch_one(
        "SELECT first_name, last_name, email, language, do_not_contact FROM person WHERE id = {}",
        row["person_id"],
    )
    if not person or not person["email"] or person["do_not_contact"]:
        return
    event = await db.fetch_one("SELECT * FROM events_event WHERE id = {}", row["event_id"])
    assert event is not None
    if row.get("shift_id") is not None:
        shift = await db.fetch_one("SELECT * FROM events_shift WHERE id = {}", row["shift_id"])
        assert shift is not None
        event = with_shift(event, shift)
    runtime = current_runtime()
    locale = locale or person["language"] or runtime.settings.locale
    await runtime.mailer.send(
        to_email=person["email"],
        to_name=f"{person['first_name']} {person['last_name']}".strip(),
        template=template,
        locale=locale,
        context={
            "person": person,
            "event": mail_event(event, locale),
            "cancel_url": await cancel_url(event["org_id"], event["id"], row),
            **extra,
        },
        dedupe_key=dedupe_key,
        person_id=row["person_id"],
    )


async def send_confirmation(rows: list[dict[str, Any]], org_id: int, locale: str) -> None:
    """Mail the confirmation link of a public sign-up and the personal cancel link of each
    participation (one per shift picked) in one mail."""
    first = rows[0]
    event = await db.fetch_one("SELECT timezone FROM events_event WHERE id = {}", first["event_id"])
    assert event is not None
    shifts = []
    for row in rows:
        if row.get("shift_id") is None:
            continue
        shift = await db.fetch_one("SELECT * FROM events_shift WHERE id = {}", row["shift_id"])
        assert shift is not None
        shifts.append(
            {
                "title": shift["title"],
                "when": when_text(shift["start_at"], shift["end_at"], event["timezone"], locale),
                "waiting": row["status"] == "waiting",
                "cancel_url": await cancel_url(org_id, row["event_id"], row),
            }
        )
    await _mail(
        {**first, "shift_id": None},
        "mail/events_confirm",
        None,
        locale,
        confirm_url=await confirm_url(org_id, first["event_id"], first),
        waiting=all(row["status"] == "waiting" for row in rows),
        shifts=shifts,
    )


async def participants_page(event_id: int, limit: int, cursor: str | None) -> Page[dict]:
    """A keyset page of an event's participations with the people's names, by id."""
    check_limit(limit)
    key = decode_cursor(cursor)
    rows = await db.fetch(
        "SELECT pa.*, p.first_name, p.last_name FROM events_participation pa "
        "JOIN person p ON p.id = pa.person_id WHERE pa.event_id = {} AND pa.id > {} "
        "ORDER BY pa.id LIMIT {}",
        event_id,
        int(key[0]) if key else 0,
        limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r["id"]])


async def read_participants(
    request: Any, actor: Actor, org_id: int, event_id: int, limit: int, cursor: str | None
) -> Page[dict]:
    """A page of :func:`participants_page` of an event of unit ``org_id`` for ``actor``,
    audited as ``events.participants_read`` with the people shown (written after the
    answer). The JSON route reads participant lists through this, as a console page would."""
    page = await participants_page(event_id, limit, cursor)
    people = [row["person_id"] for row in page.items]
    record_list(
        request,
        "events.participants_read",
        actor,
        org_id,
        people,
        object_type="event",
        object_id=event_id,
    )
    return page
