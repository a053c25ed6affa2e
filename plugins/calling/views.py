"""What a caller sees of a reserved call: only the fields the assignment needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core.api import db
from plugins.calling.schemas import CallOut, CallPerson, EarlierCall, Question

__all__ = ["call_view", "card_columns", "card_out", "survey_of"]


_SEP = "\x1f"


def _joined(expression: str, source: str, order: str) -> str:
    """A subquery joining ``expression`` over ``source`` rows with the unit separator."""
    if db.is_postgres():
        return f"(SELECT string_agg({expression}, chr(31) ORDER BY {order}) FROM {source})"
    return (
        f"(SELECT group_concat(x.v, char(31)) FROM "
        f"(SELECT {expression} AS v FROM {source} ORDER BY {order}) x)"
    )


def card_columns() -> str:
    """The call card's columns on ``p`` (the person) and ``o`` (their home unit), so the
    reservation statement can return the card with the call (no second round trip)."""
    phones = _joined(
        "ph.e164", "person_phone ph WHERE ph.person_id = p.id AND ph.valid", "ph.position"
    )
    tags = _joined(
        "t.name", "person_tag pt JOIN tag t ON t.id = pt.tag_id WHERE pt.person_id = p.id", "t.name"
    )
    return (
        "p.first_name AS first_name, p.last_name AS last_name, o.name AS home_unit, "
        "p.member_status AS member_status, p.created_at AS in_records_since, "
        f"{phones} AS phones, {tags} AS tags"
    )


def survey_of(assignment: dict[str, Any]) -> list[Question]:
    """The assignment's survey questions."""
    return msgspec.convert(db.json_value(assignment["survey"]), list[Question])


async def card_out(
    assignment: dict[str, Any],
    call_id: int,
    person_id: int,
    reserved_until: datetime,
    card: dict[str, Any],
) -> CallOut:
    """The call card from a row of :func:`card_columns`, with earlier notes if allowed."""
    earlier = None
    if assignment["show_earlier_notes"]:
        rows = await db.fetch(
            "SELECT outcome, notes, reported_at FROM calling_call WHERE assignment_id = {} "
            "AND person_id = {} AND state = 'reported' ORDER BY id DESC LIMIT 10",
            assignment["id"],
            person_id,
        )
        earlier = [EarlierCall(r["outcome"], r["notes"], r["reported_at"]) for r in rows]
    return CallOut(
        call_id=call_id,
        assignment_id=assignment["id"],
        reserved_until=reserved_until,
        person=CallPerson(
            id=person_id,
            first_name=card["first_name"],
            last_name=card["last_name"],
            phones=card["phones"].split(_SEP) if card["phones"] else [],
            home_unit=card["home_unit"],
            tags=card["tags"].split(_SEP) if card["tags"] else [],
            earlier_calls=earlier,
            member_status=card["member_status"] or "",
            in_records_since=card["in_records_since"],
        ),
        survey=survey_of(assignment),
        instructions=assignment["instructions"],
    )


async def call_view(
    assignment: dict[str, Any], call_id: int, person_id: int, reserved_until: datetime
) -> CallOut:
    """The call card: name, callable numbers, home unit, tags, earlier notes if allowed."""
    card = await db.fetch_one(
        f"SELECT {card_columns()} FROM person p JOIN org_unit o ON o.id = p.home_org_id "
        "WHERE p.id = {}",
        person_id,
    )
    assert card is not None
    return await card_out(assignment, call_id, person_id, reserved_until, card)
