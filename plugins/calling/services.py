"""Call assignment services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core import db
from core.api import invalid, to_row, utcnow
from plugins.calling.schemas import AssignmentIn, AssignmentOut
from plugins.calling.tables import CallAssignment

__all__ = ["assignment_out", "assignment_state", "create_assignment"]


def assignment_state(start_at: datetime | None, end_at: datetime | None, now: datetime) -> str:
    """draft (no start), scheduled (start ahead), closed (end passed) or open."""
    if start_at is None:
        return "draft"
    if now < start_at:
        return "scheduled"
    if end_at is not None and now >= end_at:
        return "closed"
    return "open"


def assignment_out(row: dict[str, Any]) -> AssignmentOut:
    """Turn a table row into the API shape."""
    return AssignmentOut(
        id=row["id"],
        org_id=row["org_id"],
        title=row["title"],
        description=row["description"],
        instructions=row["instructions"],
        target=db.json_value(row["target"]),
        goal=db.json_value(row["goal"]),
        cooldown_hours=row["cooldown_hours"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        survey=msgspec.convert(db.json_value(row["survey"]), list),
        show_earlier_notes=bool(row["show_earlier_notes"]),
        state=assignment_state(row["start_at"], row["end_at"], utcnow()),  # type: ignore[arg-type]
        created_at=row["created_at"],
    )


async def create_assignment(org_id: int, data: AssignmentIn) -> dict[str, Any]:
    """Insert an assignment for unit ``org_id``."""
    if data.start_at and data.end_at and data.end_at <= data.start_at:
        raise invalid("end_at", "must be after start_at")
    rows = await CallAssignment.insert(CallAssignment(org=org_id, **to_row(data))).run()
    row = await CallAssignment.select().where(CallAssignment.id == rows[0]["id"]).first().run()
    assert row is not None
    return row
