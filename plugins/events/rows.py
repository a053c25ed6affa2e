"""Reading an event's row: below both the services and the mails they send (notify)."""

from __future__ import annotations

from typing import Any

from plugins.events.tables import Event

__all__ = ["get_event_row"]


async def get_event_row(event_id: int) -> dict[str, Any] | None:
    """An event's row (Piccolo column names: ``org``, ``contact_person``)."""
    return await Event.select().where(Event.id == event_id).first().run()
