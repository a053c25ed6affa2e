"""Event services."""

from __future__ import annotations

from typing import Any

import msgspec

from core import db
from core.api import to_row, utcnow
from plugins.events.schemas import EventIn, EventOut, Location
from plugins.events.tables import Event

__all__ = ["create_event", "event_out"]


def event_out(row: dict[str, Any]) -> EventOut:
    """Turn a table row into the API shape."""
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
        participants_needed=row["participants_needed"],
        capacity=row["capacity"],
        visibility=row["visibility"],
        state=row["state"],
        ended=row["end_at"] <= utcnow(),
    )


async def create_event(org_id: int, data: EventIn) -> dict[str, Any]:
    """Insert an event for unit ``org_id``."""
    rows = await Event.insert(Event(org=org_id, **to_row(data))).run()
    row = await Event.select().where(Event.id == rows[0]["id"]).first().run()
    assert row is not None
    return row
