"""What a caller sees of a reserved call: only the fields the assignment needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core import db
from plugins.calling.schemas import CallOut, CallPerson, EarlierCall, Question

__all__ = ["call_view", "survey_of"]


_SEP = "\x1f"


def _tags_sql() -> str:
    """The person's tag names joined by the unit separator, in one subquery."""
    names = (
        "SELECT t.name FROM person_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.person_id = p.id"
    )
    if db.is_postgres():
        return f"(SELECT string_agg(x.name, chr(31) ORDER BY x.name) FROM ({names}) x)"
    return f"(SELECT group_concat(x.name, char(31)) FROM ({names} ORDER BY t.name) x)"


def survey_of(assignment: dict[str, Any]) -> list[Question]:
    """The assignment's survey questions."""
    return msgspec.convert(db.json_value(assignment["survey"]), list[Question])


async def call_view(
    assignment: dict[str, Any], call_id: int, person_id: int, reserved_until: datetime
) -> CallOut:
    """The call card: name, callable numbers, home unit, tags, earlier notes if allowed."""
    cards = await db.fetch(
        "SELECT p.id, p.first_name, p.last_name, o.name AS home_unit, ph.e164, "
        f"{_tags_sql()} AS tags FROM person p "
        "JOIN org_unit o ON o.id = p.home_org_id LEFT JOIN person_phone ph "
        "ON ph.person_id = p.id AND ph.valid WHERE p.id = {} ORDER BY ph.position",
        person_id,
    )
    person = cards[0]
    earlier = None
    if assignment["show_earlier_notes"]:
        rows = await db.fetch(
            "SELECT outcome, notes, reported_at FROM calling_call WHERE assignment_id = {} "
            "AND person_id = {} AND state = 'reported' ORDER BY id DESC LIMIT 10",
            assignment["id"],
            person_id,
        )
        earlier = [EarlierCall(r["outcome"], r["notes"], r["reported_at"]) for r in rows]
    tags = person["tags"].split(_SEP) if person["tags"] else []
    return CallOut(
        call_id=call_id,
        assignment_id=assignment["id"],
        reserved_until=reserved_until,
        person=CallPerson(
            id=person["id"],
            first_name=person["first_name"],
            last_name=person["last_name"],
            phones=[r["e164"] for r in cards if r["e164"]],
            home_unit=person["home_unit"],
            tags=tags,
            earlier_calls=earlier,
        ),
        survey=survey_of(assignment),
        instructions=assignment["instructions"],
    )
