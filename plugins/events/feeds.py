"""What the public sees: the queries behind the public pages, iCalendar (RFC 5545) and JSON."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec
from icalendar import Calendar, vText
from icalendar import Event as IcsEvent

from core.api import db, enabled_subtree_ids, module_enabled, utcnow
from plugins.events.links import event_url, with_shift
from plugins.events.schemas import MAX_DURATION, Location, PublicEvent, PublicEvents

__all__ = [
    "LIST_COLUMNS",
    "calendar_bytes",
    "embed_json",
    "feed_version",
    "ics_etag",
    "ics_uid",
    "public_event",
    "public_events",
    "public_shifts",
    "public_unit",
]

LIST_COLUMNS = "e.id, e.org_id, e.title, e.start_at, e.end_at, e.timezone, e.location"
_COLUMNS = (
    "e.id, e.org_id, e.title, e.description, e.type, e.start_at, e.end_at, e.timezone, "
    "e.location, e.capacity, e.state, e.change_seq, e.created_at, e.updated_at"
)


def _not_ended_before(past_days: int) -> tuple[datetime, datetime]:
    """Bounds for "ended less than ``past_days`` ago": on end_at, and (events last at most
    MAX_DURATION) on start_at, so the start_at index scan begins near now."""
    since = utcnow() - timedelta(days=past_days)
    return since, since - MAX_DURATION


async def public_unit(org_id: int) -> dict[str, Any] | None:
    """The unit (id, name, path) if it exists and has the events module on, else None."""
    row = await db.fetch_one("SELECT id, name, path FROM org_unit WHERE id = {}", org_id)
    return row if row and await module_enabled("events", row["path"]) else None


async def _unit_ids(unit: dict[str, Any], subtree: bool) -> list[int]:
    """The unit, or with ``subtree`` the units of its subtree where the events module is on."""
    return await enabled_subtree_ids("events", unit["path"]) if subtree else [unit["id"]]


async def public_events(
    unit: dict[str, Any],
    subtree: bool,
    limit: int,
    *,
    past_days: int = 0,
    after: tuple[datetime, int] | None = None,
    columns: str = _COLUMNS,
    cancelled: bool = False,
) -> list[dict[str, Any]]:
    """Public, published events of the unit (or its subtree) not ended ``past_days`` ago,
    by start time, from after the keyset ``after`` (start, id). Drafts and events of units
    below where the module is off are never listed, cancelled events only with ``cancelled``
    (a calendar feed must tell subscribers)."""
    ids = await _unit_ids(unit, subtree)
    marks = ", ".join(["{}"] * len(ids))
    keyset, args = "", []
    if after is not None:
        keyset = "AND (e.start_at > {} OR (e.start_at = {} AND e.id > {})) "
        args = [after[0], after[0], after[1]]
    return await db.fetch(
        f"SELECT {columns} FROM events_event e WHERE e.org_id IN ({marks}) "
        f"AND e.visibility = 'public' AND {_states(cancelled)} AND e.end_at > {{}} "
        f"AND e.start_at > {{}} {keyset}ORDER BY e.start_at, e.id LIMIT {{}}",
        *ids,
        *_not_ended_before(past_days),
        *args,
        limit,
    )


def _states(cancelled: bool) -> str:
    return "e.state IN ('published', 'cancelled')" if cancelled else "e.state = 'published'"


async def feed_version(unit: dict[str, Any], subtree: bool, past_days: int) -> str:
    """A cheap fingerprint of what a feed (which lists cancelled events too) would hold: it
    changes whenever an event enters, leaves or changes (count, newest change, highest id),
    so a cached feed is never stale."""
    ids = await _unit_ids(unit, subtree)
    marks = ", ".join(["{}"] * len(ids))
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n, MAX(e.updated_at) AS changed, MAX(e.id) AS top "
        f"FROM events_event e WHERE e.org_id IN ({marks}) AND e.visibility = 'public' "
        f"AND {_states(True)} AND e.end_at > {{}} AND e.start_at > {{}}",
        *ids,
        *_not_ended_before(past_days),
    )
    assert row is not None
    units = ",".join(map(str, ids))
    return f"{row['n']}-{row['changed']}-{row['top']}-{unit['name']}-{units}"


async def public_event(org_id: int, event_id: int) -> dict[str, Any] | None:
    """A public event of the unit that was published (it may have been cancelled since)."""
    row = await db.fetch_one(
        f"SELECT {_COLUMNS}, "
        "(SELECT COUNT(*) FROM events_participation pa WHERE pa.event_id = e.id "
        "AND pa.status IN ('signed_up', 'booked')) AS taken "
        "FROM events_event e WHERE e.id = {} AND e.org_id = {} "
        "AND e.visibility = 'public' AND e.state IN ('published', 'cancelled')",
        event_id,
        org_id,
    )
    return row


async def public_shifts(event_id: int) -> list[dict[str, Any]]:
    """The event's shifts by start time, each with ``taken`` places (signed up and booked)."""
    return await db.fetch(
        "SELECT s.*, (SELECT COUNT(*) FROM events_participation pa WHERE pa.shift_id = s.id "
        "AND pa.status IN ('signed_up', 'booked')) AS taken "
        "FROM events_shift s WHERE s.event_id = {} ORDER BY s.start_at, s.id",
        event_id,
    )


def _location_text(location: dict[str, Any]) -> str:
    return ", ".join(part for part in (location.get("name"), location.get("address")) if part)


def ics_uid(row: dict[str, Any], public_url: str) -> str:
    """A UID no other deployment gives: the event's id and creation time (to the microsecond)
    under this deployment's URL, hashed (RFC 5545 wants it globally unique and stable)."""
    host = urlsplit(public_url).hostname or "orga"
    name = f"{public_url}/events/{row['id']}/{row['created_at'].isoformat()}"
    return f"{uuid.uuid5(uuid.NAMESPACE_URL, name)}@{host}"


def ics_etag(rows: list[dict[str, Any]]) -> str:
    """An ETag that changes with any change of the events (and shifts) in the file."""
    parts = "|".join(
        f"{r['id']}:{r['updated_at'].isoformat()}:{r.get('state', 'shift')}" for r in rows
    )
    return '"' + hashlib.sha256(parts.encode()).hexdigest()[:32] + '"'


def _ics_event(
    row: dict[str, Any], public_url: str, shift: dict[str, Any] | None = None
) -> IcsEvent:
    """The event's VEVENT, or with ``shift`` the shift's (its own UID, time and SEQUENCE)."""
    location = db.json_value(row["location"]) or {}
    zone = ZoneInfo(row["timezone"])
    item = IcsEvent()
    if shift is None:
        item.add("uid", ics_uid(row, public_url))
        item.add("sequence", row["change_seq"])
    else:
        key = {"id": f"{row['id']}/shifts/{shift['id']}", "created_at": shift["created_at"]}
        item.add("uid", ics_uid(key, public_url))
        item.add("sequence", row["change_seq"] + shift["change_seq"])
        row = with_shift(row, shift)
    item.add("dtstamp", row["updated_at"])
    item.add("dtstart", row["start_at"].astimezone(zone))  # TZID=<the event's zone>
    item.add("dtend", row["end_at"].astimezone(zone))
    item.add("summary", row["title"])
    item.add("url", event_url(row["org_id"], row["id"]))
    item.add("status", "CANCELLED" if row["state"] == "cancelled" else "CONFIRMED")
    if row["description"]:
        item.add("description", row["description"])
    if location:
        item["location"] = vText(_location_text(location))
        if location.get("lat") is not None and location.get("lon") is not None:
            item.add("geo", (location["lat"], location["lon"]))
    return item


def calendar_bytes(
    rows: list[dict[str, Any]],
    name: str,
    public_url: str,
    shifts: dict[int, list[dict[str, Any]]] | None = None,
) -> bytes:
    """An iCalendar document with one VEVENT per row, times in each event's time zone (with
    its VTIMEZONE), cancelled events with ``STATUS:CANCELLED`` and a higher ``SEQUENCE``.
    An event with ``shifts`` (event id to its shifts) gets one VEVENT per shift instead."""
    calendar = Calendar()
    calendar.add("prodid", "-//orga//events//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for row in rows:
        own = (shifts or {}).get(row["id"])
        for shift in own or [None]:
            calendar.add_component(_ics_event(row, public_url, shift))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def embed_json(rows: list[dict[str, Any]]) -> PublicEvents:
    """The public events as plain data for embedding on a party website."""
    items = []
    for row in rows:
        url = event_url(row["org_id"], row["id"])
        location = db.json_value(row["location"])
        items.append(
            PublicEvent(
                id=row["id"],
                title=row["title"],
                type=row["type"],
                description=row["description"],
                start_at=row["start_at"],
                end_at=row["end_at"],
                timezone=row["timezone"],
                location=msgspec.convert(location, Location) if location else None,
                url=url,
                ics_url=f"{url}/event.ics",
            )
        )
    return PublicEvents(events=items, generated_at=utcnow())
