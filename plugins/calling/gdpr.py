"""The calling module's part of access exports, erasure, merging and the person summary."""

from __future__ import annotations

from typing import Any

from core.api import db

__all__ = ["erase_person", "export_person", "merge_people", "summary"]

_CALLS_SQL = (
    "SELECT c.id, c.assignment_id, a.title AS assignment, c.state, c.outcome, c.notes, "
    "c.reserved_at, c.reported_at, c.call_back_after FROM calling_call c "
    "JOIN calling_assignment a ON a.id = c.assignment_id WHERE c.person_id = {} "
)


async def export_person(person_id: int) -> dict[str, Any] | None:
    """Calls (with notes), survey answers, follow-ups and queue entries about the person."""
    calls = await db.fetch(_CALLS_SQL + "ORDER BY c.id", person_id)
    answers = await db.fetch(
        "SELECT call_id, assignment_id, question, value FROM calling_answer "
        "WHERE person_id = {} ORDER BY id",
        person_id,
    )
    followups = await db.fetch(
        "SELECT id, kind, message, status, note, created_at, done_at FROM calling_followup "
        "WHERE person_id = {} ORDER BY id",
        person_id,
    )
    targets = await db.fetch(
        "SELECT assignment_id, state, attempts, last_outcome, call_back_after "
        "FROM calling_target WHERE person_id = {} ORDER BY id",
        person_id,
    )
    if not (calls or answers or followups or targets):
        return None
    return {"calls": calls, "answers": answers, "followups": followups, "queue": targets}


async def erase_person(person_id: int) -> None:
    """Delete every calling row about the person (calls, answers, follow-ups, queue, lock)."""
    for table in (
        "calling_answer",
        "calling_followup",
        "calling_lock",
        "calling_target",
        "calling_call",
    ):
        await db.execute(f"DELETE FROM {table} WHERE person_id = {{}}", person_id)


async def merge_people(kept_id: int, merged_id: int) -> None:
    """Move calls, answers and follow-ups to the kept person; queue entries the kept person
    already has in the same assignment are dropped, the rest move."""
    for table in ("calling_call", "calling_answer", "calling_followup"):
        await db.execute(
            f"UPDATE {table} SET person_id = {{}} WHERE person_id = {{}}", kept_id, merged_id
        )
    await db.execute(
        "DELETE FROM calling_target WHERE person_id = {} AND assignment_id IN "
        "(SELECT assignment_id FROM calling_target WHERE person_id = {})",
        merged_id,
        kept_id,
    )
    await db.execute(
        "UPDATE calling_target SET person_id = {} WHERE person_id = {}", kept_id, merged_id
    )
    await db.execute("DELETE FROM calling_lock WHERE person_id = {}", merged_id)


async def summary(person_id: int) -> dict[str, Any] | None:
    """The person's last five reported calls."""
    rows = await db.fetch(
        _CALLS_SQL + "AND c.state = 'reported' ORDER BY c.reported_at DESC LIMIT 5", person_id
    )
    if not rows:
        return None
    return {
        "last_calls": [
            {
                "assignment": r["assignment"],
                "outcome": r["outcome"],
                "notes": r["notes"],
                "at": r["reported_at"],
            }
            for r in rows
        ]
    }
