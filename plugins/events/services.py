"""Event services: create, change (with notices and reminders), copy, weekly series, counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from core.api import (
    Page,
    check_limit,
    conflict,
    db,
    decode_cursor,
    get_person_row,
    invalid,
    page_of,
    record,
    to_row,
    utcnow,
)
from plugins.events import notify, shifts
from plugins.events.config import events_config
from plugins.events.rows import get_event_row
from plugins.events.schemas import (
    Counts,
    EventIn,
    EventOut,
    EventPatch,
    Location,
    check_times,
)
from plugins.events.tables import Event

__all__ = [
    "calendar_page",
    "copy_event",
    "counts_for",
    "create_event",
    "delete_event",
    "event_out",
    "events_out",
    "location_of",
    "person_names",
    "repeat_weekly",
    "update_event",
    "weeks_until",
]

_COUNT_SQL = (
    "SELECT event_id, "
    "SUM(CASE WHEN status = 'booked' THEN 1 ELSE 0 END) AS booked, "
    "SUM(CASE WHEN status = 'signed_up' THEN 1 ELSE 0 END) AS signed_up, "
    "SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS waiting, "
    "SUM(CASE WHEN attendance = 'attended' THEN 1 ELSE 0 END) AS attended, "
    "SUM(CASE WHEN attendance = 'no_show' THEN 1 ELSE 0 END) AS no_show "
    "FROM events_participation WHERE event_id IN ({marks}) GROUP BY event_id"
)


async def counts_for(rows: list[dict[str, Any]]) -> dict[int, Counts]:
    """Counts of every event in ``rows`` in one query (no query per event)."""
    ids = [row["id"] for row in rows]
    found: dict[int, dict[str, Any]] = {}
    if ids:
        marks = ", ".join(["{}"] * len(ids))
        for r in await db.fetch(_COUNT_SQL.format(marks=marks), *ids):
            found[r["event_id"]] = r
    result = {}
    for row in rows:
        c = found.get(row["id"], {})
        booked, signed_up = int(c.get("booked") or 0), int(c.get("signed_up") or 0)
        capacity = row["capacity"]
        result[row["id"]] = Counts(
            needed=row["participants_needed"],
            booked=booked,
            signed_up=signed_up,
            waiting=int(c.get("waiting") or 0),
            attended=int(c.get("attended") or 0),
            no_show=int(c.get("no_show") or 0),
            free=None if capacity is None else max(0, capacity - booked - signed_up),
        )
    return result


def location_of(row: dict[str, Any]) -> dict[str, Any]:
    """An event's place as stored (``name``, ``address``, …; empty when it has none)."""
    return db.json_value(row["location"]) or {}


def _event_out(row: dict[str, Any], counts: Counts) -> EventOut:
    location = db.json_value(row["location"])
    return EventOut(
        id=row["id"],
        org_id=row["org_id"],
        title=row["title"],
        type=row["type"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        timezone=row["timezone"],
        description=row["description"],
        location=msgspec.convert(location, Location) if location else None,
        campaign=row["campaign"],
        contact_person_id=row["contact_person_id"],
        participants_needed=row["participants_needed"],
        capacity=row["capacity"],
        visibility=row["visibility"],
        state=row["state"],
        reminder_hours=row["reminder_hours"],
        series_id=row["series_id"],
        ended=row["end_at"] <= utcnow(),
        counts=counts,
    )


async def events_out(rows: list[dict[str, Any]]) -> list[EventOut]:
    """Rows in the API shape, with counts (one count query for all)."""
    counts = await counts_for(rows)
    return [_event_out(row, counts[row["id"]]) for row in rows]


async def event_out(row: dict[str, Any]) -> EventOut:
    """One row in the API shape."""
    return (await events_out([row]))[0]


async def calendar_page(
    org_id: int,
    start_from: datetime,
    start_to: datetime | None,
    state: str | None,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """The unit's events starting in [``start_from``, ``start_to``) by start time, a keyset
    page at a time (index ``events_event_org_start``)."""
    check_limit(limit)
    key = decode_cursor(cursor, tuple[str, int])
    where, args = ["org_id = {}", "start_at >= {}"], [org_id, start_from]
    if start_to is not None:
        where.append("start_at < {}")
        args.append(start_to)
    if state is not None:
        where.append("state = {}")
        args.append(state)
    if key is not None:
        try:
            after = (datetime.fromisoformat(key[0]), int(key[1]))
        except (ValueError, IndexError, TypeError):
            raise invalid("cursor", "malformed cursor") from None
        where.append("(start_at > {} OR (start_at = {} AND id > {}))")
        args += [after[0], after[0], after[1]]
    rows = await db.fetch(
        f"SELECT * FROM events_event WHERE {' AND '.join(where)} ORDER BY start_at, id LIMIT {{}}",
        *args,
        limit + 1,
    )
    return page_of(rows, limit, key=lambda r: [r["start_at"].isoformat(), r["id"]])


def _check_type(value: str) -> None:
    types = events_config().types
    if value not in types:
        raise invalid("type", f"unknown event type; one of: {', '.join(types)}")


async def person_names(person_id: int) -> dict[str, str]:
    """First and last name of a person (for participant rows)."""
    row = await db.fetch_one("SELECT first_name, last_name FROM person WHERE id = {}", person_id)
    return row or {"first_name": "", "last_name": ""}


async def _check_contact(person_id: int | None, org_path: str) -> None:
    if person_id is not None and await get_person_row(person_id, org_path) is None:
        raise invalid("contact_person_id", "no such person in this unit")


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    if "contact_person_id" in values:
        values["contact_person"] = values.pop("contact_person_id")
    return values


async def _audit(action: str, row: dict[str, Any]) -> None:
    await record(action, org_id=row["org_id"], object_type="event", object_id=row["id"])


async def create_event(org_id: int, org_path: str, data: EventIn) -> dict[str, Any]:
    """Insert an event for unit ``org_id``; a published one gets its reminder scheduled.
    Audited (``events.created``)."""
    _check_type(data.type)
    await _check_contact(data.contact_person_id, org_path)
    async with db.transaction():
        rows = await Event.insert(Event(org=org_id, **_columns(to_row(data)))).run()
        row = await get_event_row(rows[0]["id"])
        assert row is not None
        await notify.schedule_reminder(row)
        await _audit("events.created", row)
    return row


_PLACE_AND_TIME = ("start_at", "end_at", "timezone", "location")


def _stored(name: str, value: Any) -> Any:
    """A column's value to compare: the place is JSON (text on SQLite), the rest as it is."""
    return db.json_value(value) if name == "location" else value


async def update_event(row: dict[str, Any], org_path: str, patch: EventPatch) -> dict[str, Any]:
    """Apply ``patch``; participants are told about a new time or place and a cancellation.
    Audited (``events.updated``)."""
    changes = {
        name: value
        for name, value in to_row(patch).items()
        if value is not msgspec.UNSET and name != "contact_person_id"
    }
    if patch.contact_person_id is not msgspec.UNSET:
        await _check_contact(patch.contact_person_id, org_path)
        changes["contact_person"] = patch.contact_person_id
    if "type" in changes:
        _check_type(changes["type"])
    start = changes.get("start_at", row["start_at"])
    end = changes.get("end_at", row["end_at"])
    try:
        check_times(start, end, changes.get("timezone", row["timezone"]))
    except ValueError as exc:
        field = "timezone" if "timezone" in str(exc) else "end_at"
        raise invalid(field, str(exc)) from None
    if row["state"] == "cancelled" and changes.get("state", "cancelled") != "cancelled":
        raise conflict("A cancelled event stays cancelled; copy it instead.", field="state")
    moved = any(
        name in changes and _stored(name, changes[name]) != _stored(name, row[name])
        for name in _PLACE_AND_TIME
    )
    cancelled = changes.get("state") == "cancelled" and row["state"] != "cancelled"
    announced = row["state"] == "published"
    if (moved or cancelled) and announced:  # calendars take the higher SEQUENCE as news
        changes["change_seq"] = row["change_seq"] + 1
    async with db.transaction():
        if changes:
            await (
                Event.update({getattr(Event, k): v for k, v in changes.items()})
                .where(Event.id == row["id"])
                .run()
            )
        new = await get_event_row(row["id"])
        assert new is not None
        await shifts.follow_event(row, new)
        if cancelled and announced:
            await notify.schedule_notice(new, "cancelled")
        elif moved and announced and new["state"] == "published":
            await notify.schedule_notice(new, "changed")
        await notify.schedule_reminder(new)
        await _audit("events.updated", new)
    return new


async def delete_event(row: dict[str, Any]) -> None:
    """Delete a draft or an event nobody is signed up for (else cancel it: people are told).
    Audited (``events.deleted``)."""
    people = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM events_participation WHERE event_id = {}", row["id"]
    )
    if row["state"] != "draft" and people and people["n"]:
        raise conflict("People are signed up for this event; cancel it instead.", field="state")
    await db.execute("DELETE FROM events_event WHERE id = {}", row["id"])
    await _audit("events.deleted", row)


def _copy_values(row: dict[str, Any], start_at: datetime, end_at: datetime) -> dict[str, Any]:
    keep = (
        "title description type timezone location campaign contact_person "
        "participants_needed capacity visibility reminder_hours"
    ).split()
    values = {name: row[name] for name in keep if name != "contact_person"}
    values["contact_person"] = row["contact_person_id"]
    values["location"] = db.json_value(values["location"])
    return {**values, "start_at": start_at, "end_at": end_at}


async def copy_event(row: dict[str, Any], start_at: datetime) -> dict[str, Any]:
    """A draft copy of an event starting at ``start_at`` (same duration, nobody signed up).
    Audited (``events.created``)."""
    end_at = start_at + (row["end_at"] - row["start_at"])
    values = _copy_values(row, start_at, end_at)
    rows = await Event.insert(Event(org=row["org_id"], state="draft", **values)).run()
    new = await get_event_row(rows[0]["id"])
    assert new is not None
    await shifts.copy_shifts(row["id"], new)
    await _audit("events.created", new)
    return new


def weekly_starts(start_at: datetime, timezone: str, weeks: int) -> list[datetime]:
    """The next ``weeks`` weekly starts at the same local wall-clock time (DST-aware)."""
    zone = ZoneInfo(timezone)
    local = start_at.astimezone(zone).replace(tzinfo=None)
    return [(local + timedelta(weeks=k)).replace(tzinfo=zone) for k in range(1, weeks + 1)]


def weeks_until(row: dict[str, Any], until: date) -> int:
    """How many weekly copies of the event start on or before the day ``until`` (in the
    event's time zone); 422 on ``until`` for none or more than a year's (52)."""
    starts = weekly_starts(row["start_at"], row["timezone"], 53)
    weeks = sum(1 for start in starts if start.date() <= until)
    if weeks < 1:
        raise invalid("until", "choose a day at least a week after the event")
    if weeks > 52:
        raise invalid("until", "a series reaches at most a year (52 weeks)")
    return weeks


async def repeat_weekly(row: dict[str, Any], weeks: int) -> list[dict[str, Any]]:
    """``weeks`` weekly copies in the original's state (draft or published), as one series;
    each audited (``events.created``)."""
    if row["state"] == "cancelled":
        raise conflict("A cancelled event cannot be repeated.", field="state")
    duration = row["end_at"] - row["start_at"]
    series_id = row["series_id"] or row["id"]
    created = []
    async with db.transaction():
        await Event.update({Event.series_id: series_id}).where(Event.id == row["id"]).run()
        for start in weekly_starts(row["start_at"], row["timezone"], weeks):
            values = _copy_values(row, start, start + duration)
            rows = await Event.insert(
                Event(org=row["org_id"], state=row["state"], series_id=series_id, **values)
            ).run()
            new = await get_event_row(rows[0]["id"])
            assert new is not None
            await shifts.copy_shifts(row["id"], new)
            await notify.schedule_reminder(new)
            await _audit("events.created", new)
            created.append(new)
    return created
