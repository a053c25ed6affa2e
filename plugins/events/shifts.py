"""An event's shifts: time slots within the event, each with its own capacity, waiting list,
sign-ups, reminder and calendar entry.

A participation belongs to at most one shift; a person holding two shifts of an event has two
participations (one per shift), so each shift's capacity, waiting list, reminder and cancel
link work exactly like an event's. Every change is audited here and touches the event's
``updated_at``, so cached feeds and the event's ETag see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core.api import N_, conflict, db, invalid, not_found, record, to_row, utcnow
from plugins.events import notify, participation
from plugins.events.rows import get_event_row
from plugins.events.shift_schemas import ShiftCounts, ShiftIn, ShiftOut, ShiftPatch
from plugins.events.tables import Shift

__all__ = [
    "MAX_SHIFTS",
    "copy_shifts",
    "create_shift",
    "delete_shift",
    "follow_event",
    "get_shift",
    "shift_counts",
    "shift_out",
    "shift_rows",
    "shifts_out",
    "update_shift",
]

MAX_SHIFTS = 50  # an event's shifts are one list, never paged
_COUNT_SQL = (
    "SELECT shift_id, "
    "SUM(CASE WHEN status = 'booked' THEN 1 ELSE 0 END) AS booked, "
    "SUM(CASE WHEN status = 'signed_up' THEN 1 ELSE 0 END) AS signed_up, "
    "SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS waiting, "
    "SUM(CASE WHEN attendance = 'attended' THEN 1 ELSE 0 END) AS attended "
    "FROM events_participation WHERE event_id = {} AND shift_id IS NOT NULL GROUP BY shift_id"
)


async def shift_rows(event_id: int) -> list[dict[str, Any]]:
    """The event's shifts by start time."""
    return await db.fetch(
        "SELECT * FROM events_shift WHERE event_id = {} ORDER BY start_at, id", event_id
    )


async def get_shift(event_id: int, shift_id: int) -> dict[str, Any]:
    """A shift of the event (404 for another event's)."""
    row = await db.fetch_one(
        "SELECT * FROM events_shift WHERE id = {} AND event_id = {}", shift_id, event_id
    )
    if row is None:
        raise not_found("shift")
    return row


async def shift_counts(event_id: int, rows: list[dict[str, Any]]) -> dict[int, ShiftCounts]:
    """Counts of the event's shifts ``rows`` in one query."""
    found = {r["shift_id"]: r for r in await db.fetch(_COUNT_SQL, event_id)}
    result = {}
    for row in rows:
        c = found.get(row["id"], {})
        booked, signed_up = int(c.get("booked") or 0), int(c.get("signed_up") or 0)
        capacity = row["capacity"]
        result[row["id"]] = ShiftCounts(
            signed_up=signed_up,
            booked=booked,
            waiting=int(c.get("waiting") or 0),
            attended=int(c.get("attended") or 0),
            free=None if capacity is None else max(0, capacity - booked - signed_up),
        )
    return result


def _out(row: dict[str, Any], counts: ShiftCounts) -> ShiftOut:
    return ShiftOut(
        id=row["id"],
        event_id=row["event_id"],
        title=row["title"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        capacity=row["capacity"],
        waiting_list=bool(row["waiting_list"]),
        counts=counts,
    )


async def shifts_out(event_id: int) -> list[ShiftOut]:
    """The event's shifts in the API shape, with their counts."""
    rows = await shift_rows(event_id)
    counts = await shift_counts(event_id, rows)
    return [_out(row, counts[row["id"]]) for row in rows]


async def shift_out(row: dict[str, Any]) -> ShiftOut:
    """One shift in the API shape."""
    counts = await shift_counts(row["event_id"], [row])
    return _out(row, counts[row["id"]])


def _check_times(event: dict[str, Any], start_at: datetime, end_at: datetime) -> None:
    if end_at <= start_at:
        raise invalid("end_at", N_("The end must be after the start."))
    if start_at < event["start_at"] or start_at >= event["end_at"]:
        raise invalid("start_at", N_("A shift starts within the event's time."))
    if end_at > event["end_at"]:
        raise invalid("end_at", N_("A shift ends by the end of the event."))


async def _changed(org_id: int, event_id: int, action: str, shift_id: int) -> None:
    """Touch the event (feeds and its ETag see the change) and audit it."""
    await db.execute("UPDATE events_event SET updated_at = {} WHERE id = {}", utcnow(), event_id)
    await record(action, org_id=org_id, object_type="shift", object_id=shift_id)


async def create_shift(org_id: int, event: dict[str, Any], data: ShiftIn) -> dict[str, Any]:
    """Add a shift to an event of unit ``org_id`` (its reminder is scheduled when the event
    is published); audited (``events.shift_created``).

    Raises:
        Problem: 422 on ``start_at``/``end_at`` for a shift outside the event's time; 409 on
            ``state`` for a cancelled event, on ``start_at`` for a 51st shift.
    """
    if event["state"] == "cancelled":
        raise conflict(N_("A cancelled event takes no new shifts."), field="state")
    _check_times(event, data.start_at, data.end_at)
    async with db.transaction():
        held = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM events_shift WHERE event_id = {}", event["id"]
        )
        if held and held["n"] >= MAX_SHIFTS:
            raise conflict(N_("An event has at most 50 shifts."), field="start_at")
        rows = await Shift.insert(Shift(event=event["id"], **to_row(data))).run()
        row = await get_shift(event["id"], rows[0]["id"])
        await notify.schedule_shift_reminder(event, row)
        await _changed(org_id, event["id"], "events.shift_created", row["id"])
    return row


async def update_shift(
    org_id: int, event: dict[str, Any], shift: dict[str, Any], patch: ShiftPatch
) -> dict[str, Any]:
    """Change a shift: a new time raises its calendar SEQUENCE, schedules its reminder anew
    and, for a published event, tells the shift's people (signed up, booked) of the new time;
    more places move people up from its waiting list. Audited (``events.shift_updated``)."""
    changes = {k: v for k, v in to_row(patch).items() if v is not msgspec.UNSET}
    start = changes.get("start_at", shift["start_at"])
    end = changes.get("end_at", shift["end_at"])
    _check_times(event, start, end)
    moved = start != shift["start_at"] or end != shift["end_at"]
    if moved:
        changes["change_seq"] = shift["change_seq"] + 1
    async with db.transaction():
        if changes:
            await (
                Shift.update({getattr(Shift, k): v for k, v in changes.items()})
                .where(Shift.id == shift["id"])
                .run()
            )
        new = await get_shift(event["id"], shift["id"])
        await _fill_up(event["id"], new)
        if moved:
            await notify.schedule_shift_reminder(event, new)
            if event["state"] == "published":
                await notify.schedule_shift_notice(event, new)
        await _changed(org_id, event["id"], "events.shift_updated", new["id"])
    return new


async def _fill_up(event_id: int, shift: dict[str, Any]) -> None:
    """Move waiting people up while the shift has free places."""
    waiting = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM events_participation WHERE shift_id = {} AND status = 'waiting'",
        shift["id"],
    )
    for _ in range(int(waiting["n"]) if waiting else 0):
        await participation.promote(event_id, shift["id"])


async def delete_shift(org_id: int, event: dict[str, Any], shift: dict[str, Any]) -> None:
    """Remove a shift nobody is signed up for, booked into or waiting for (409 otherwise:
    cancel them first); cancelled participations go with it. Audited
    (``events.shift_deleted``)."""
    people = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM events_participation WHERE shift_id = {} "
        "AND status IN ('signed_up', 'booked', 'waiting')",
        shift["id"],
    )
    if people and people["n"]:
        raise conflict(N_("People are signed up for this shift."), field="shift")
    async with db.transaction():
        await db.execute("DELETE FROM events_shift WHERE id = {}", shift["id"])
        await _changed(org_id, event["id"], "events.shift_deleted", shift["id"])


async def follow_event(old: dict[str, Any], new: dict[str, Any]) -> None:
    """An event that moved takes its shifts along (same offset from its start; each shift's
    calendar SEQUENCE goes up). Runs in the event change's transaction, before its reminders
    are scheduled."""
    delta = new["start_at"] - old["start_at"]
    if not delta:
        return
    for shift in await shift_rows(new["id"]):
        await db.execute(
            "UPDATE events_shift SET start_at = {}, end_at = {}, change_seq = {}, "
            "updated_at = {} WHERE id = {}",
            shift["start_at"] + delta,
            shift["end_at"] + delta,
            shift["change_seq"] + 1,
            utcnow(),
            shift["id"],
        )


async def copy_shifts(source_id: int, copy: dict[str, Any]) -> None:
    """Give a copy of an event (one of a weekly series) the shifts of ``source_id`` at the
    same offsets from its start, nobody signed up."""
    source = await get_event_row(source_id)
    assert source is not None
    delta = copy["start_at"] - source["start_at"]
    for shift in await shift_rows(source_id):
        await Shift.insert(
            Shift(
                event=copy["id"],
                title=shift["title"],
                start_at=shift["start_at"] + delta,
                end_at=shift["end_at"] + delta,
                capacity=shift["capacity"],
                waiting_list=shift["waiting_list"],
            )
        ).run()
