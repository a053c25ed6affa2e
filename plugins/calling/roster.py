"""The roster: who may call an assignment, and the lookups the call routes share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core.api import (
    Problem,
    ancestors_sql,
    cached,
    current_runtime,
    db,
    drop_cached,
    invalid,
    is_under,
    not_found,
    record,
    subtree_sql,
)
from plugins.calling.assignments import create_assignment
from plugins.calling.queue import release_caller
from plugins.calling.schemas import AssignmentIn, CallerIn, Question
from plugins.calling.sql import in_list
from plugins.calling.tables import Caller

__all__ = [
    "add_caller",
    "assignment_and_caller",
    "assignment_for_caller",
    "callable_users",
    "check_may_call",
    "copy_roster",
    "duplicate_assignment",
    "may_call",
    "my_call",
    "remove_caller",
    "roster",
    "roster_entry",
    "set_caller",
]


async def may_call(user_id: int, assignment_path: str) -> bool:
    """True when the user holds ``calling.call`` on the assignment's unit, an ancestor, or a
    unit below it (a district's callers can join their state's campaign)."""
    roles = [n for n, perms in current_runtime().roles.items() if "calling.call" in perms]
    above, above_args = ancestors_sql("o.path", assignment_path)
    below, below_args = subtree_sql("o.path", assignment_path)
    row = await db.fetch_one(
        "SELECT 1 AS ok FROM role_assignment ra JOIN org_unit o ON o.id = ra.org_id "
        "JOIN orga_user u ON u.id = ra.user_id "
        f"WHERE ra.user_id = {{}} AND u.active AND ra.role IN ({in_list(roles)}) AND "
        f"({above} OR {below}) LIMIT 1",
        user_id,
        *roles,
        *above_args,
        *below_args,
    )
    return row is not None


async def assignment_for_caller(assignment_id: int, org_path: str) -> dict[str, Any]:
    """An assignment of the request's unit or of an ancestor (callers of a district work on
    their state's campaign through their own unit); else 404."""
    visible, args = ancestors_sql("o.path", org_path)
    row = await db.fetch_one(
        "SELECT a.*, o.path AS org_path FROM calling_assignment a "
        f"JOIN org_unit o ON o.id = a.org_id WHERE a.id = {{}} AND {visible}",
        assignment_id,
        *args,
    )
    if row is None:
        raise not_found("call assignment")
    return row


ROSTER_TABLES = ("calling_assignment", "calling_caller", "org_unit", "tag")


async def _tag_ids(names: list[str]) -> list[int]:
    if not names:
        return []
    rows = await db.fetch(f"SELECT id FROM tag WHERE name IN ({in_list(names)})", *names)
    return [row["id"] for row in rows]


async def _load_assignment_and_caller(
    assignment_id: int, user_id: int
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    row = await db.fetch_one(
        "SELECT a.*, o.path AS org_path, c.user_id AS caller_user_id, "
        "c.prioritized_tags AS caller_prioritized, c.excluded_tags AS caller_excluded "
        "FROM calling_assignment a JOIN org_unit o ON o.id = a.org_id "
        "LEFT JOIN calling_caller c ON c.assignment_id = a.id AND c.user_id = {} "
        "WHERE a.id = {}",
        user_id,
        assignment_id,
    )
    if row is None:
        return None
    caller = None
    if row["caller_user_id"] is not None:
        caller = {
            "user_id": row["caller_user_id"],
            "prioritized_ids": await _tag_ids(db.json_value(row["caller_prioritized"]) or []),
            "excluded_ids": await _tag_ids(db.json_value(row["caller_excluded"]) or []),
        }
    return row, caller


async def assignment_and_caller(
    assignment_id: int, org_path: str, user_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The assignment (as :func:`assignment_for_caller`) and the user's roster entry with the
    ids of their prioritized and excluded tags; 403 when the user is not on the roster.

    Cached per process (``next`` asks for it on every call); a change to the assignment, the
    roster, the units or the tags drops it in every process (see ``core.cache``)."""
    found = await cached(
        "calling.roster",
        ROSTER_TABLES,
        (assignment_id, user_id),
        lambda: _load_assignment_and_caller(assignment_id, user_id),
    )
    if found is None or not is_under(org_path, found[0]["org_path"]):
        raise not_found("call assignment")
    row, caller = found
    if caller is None:
        raise Problem(
            403,
            "not-on-roster",
            "You are not on this assignment's roster of callers.",
            title="Not a caller of this assignment",
        )
    return row, caller


async def my_call(call_id: int, org_path: str, user_id: int) -> tuple[dict, dict[str, Any]]:
    """The user's own call and its assignment (visible from ``org_path``), in one query."""
    visible, args = ancestors_sql("o.path", org_path)
    row = await db.fetch_one(
        "SELECT c.id, c.assignment_id, c.target_id, c.person_id, c.caller_id, c.state, "
        "c.reserved_until, a.org_id, a.title, a.instructions, a.goal, a.cooldown_hours, "
        "a.survey, a.show_earlier_notes, o.path AS org_path FROM calling_call c "
        "JOIN calling_assignment a ON a.id = c.assignment_id JOIN org_unit o ON o.id = a.org_id "
        f"WHERE c.id = {{}} AND c.caller_id = {{}} AND {visible}",
        call_id,
        user_id,
        *args,
    )
    if row is None:
        raise not_found("call")
    call = {k: row[k] for k in ("id", "assignment_id", "target_id", "person_id", "caller_id")}
    call |= {"state": row["state"], "reserved_until": row["reserved_until"]}
    assignment = {k: row[k] for k in row if k not in call or k == "id"}
    assignment["id"] = row["assignment_id"]
    return call, assignment


_ROSTER = (
    "SELECT c.user_id, u.display_name, c.prioritized_tags, c.excluded_tags, "
    "(SELECT COUNT(*) FROM calling_call k WHERE k.assignment_id = c.assignment_id "
    "AND k.caller_id = c.user_id AND k.state = 'reported') AS calls "
    "FROM calling_caller c JOIN orga_user u ON u.id = c.user_id WHERE c.assignment_id = {} "
)


async def roster(assignment_id: int, limit: int, after: int = 0) -> list[dict[str, Any]]:
    """Up to ``limit`` callers of the roster after user id ``after``, by user id, each with
    their reported calls (one query)."""
    return await db.fetch(
        _ROSTER + "AND c.user_id > {} ORDER BY c.user_id LIMIT {}", assignment_id, after, limit
    )


async def roster_entry(assignment_id: int, user_id: int) -> dict[str, Any] | None:
    """One caller of the roster, as :func:`roster` lists them."""
    return await db.fetch_one(_ROSTER + "AND c.user_id = {}", assignment_id, user_id)


async def check_may_call(user_id: int, assignment_path: str) -> None:
    """422 naming ``user_id`` when the user may not call this assignment."""
    if not await may_call(user_id, assignment_path):
        raise invalid("user_id", "the user holds no role with calling.call for this unit")


async def _audit(action: str, org_id: int, assignment_id: int, user_id: int) -> None:
    await record(
        action,
        org_id=org_id,
        object_type="user",
        object_id=user_id,
        detail={"assignment_id": assignment_id},
    )


async def set_caller(org_id: int, assignment_id: int, data: CallerIn) -> None:
    """Put a user on the roster of an assignment of unit ``org_id``, or replace their tags when
    they are on it (audited as ``calling.caller_added``)."""
    async with db.transaction():
        await db.execute(
            "DELETE FROM calling_caller WHERE assignment_id = {} AND user_id = {}",
            assignment_id,
            data.user_id,
        )
        await Caller.insert(
            Caller(
                assignment=assignment_id,
                user_id=data.user_id,
                prioritized_tags=data.prioritized_tags,
                excluded_tags=data.excluded_tags,
            )
        ).run()
        await _audit("calling.caller_added", org_id, assignment_id, data.user_id)
    drop_cached("calling_caller")


async def add_caller(org_id: int, org_path: str, assignment_id: int, data: CallerIn) -> None:
    """Put a user who may call here (else 422 naming ``user_id``) on the roster of an
    assignment of unit ``org_id`` at ``org_path``, or replace their tags."""
    await check_may_call(data.user_id, org_path)
    await set_caller(org_id, assignment_id, data)


async def copy_roster(org_id: int, from_id: int, to_id: int) -> None:
    """Put the callers of assignment ``from_id`` with their tags on ``to_id``'s roster (each
    audited as ``calling.caller_added``)."""
    rows = await db.fetch(
        "SELECT user_id, prioritized_tags, excluded_tags FROM calling_caller "
        "WHERE assignment_id = {} ORDER BY user_id",
        from_id,
    )
    for row in rows:
        data = CallerIn(
            user_id=row["user_id"],
            prioritized_tags=db.json_value(row["prioritized_tags"]) or [],
            excluded_tags=db.json_value(row["excluded_tags"]) or [],
        )
        await set_caller(org_id, to_id, data)


async def callable_users(
    org_path: str, assignment_id: int, limit: int = 500
) -> list[dict[str, Any]]:
    """Active users holding ``calling.call`` on the unit at ``org_path`` or a unit below it,
    not yet on the assignment's roster, by name (``id``, ``display_name``, ``email``)."""
    roles = [n for n, perms in current_runtime().roles.items() if "calling.call" in perms]
    below, below_args = subtree_sql("o.path", org_path)
    return await db.fetch(
        "SELECT DISTINCT u.id, u.display_name, u.email FROM role_assignment ra "
        "JOIN org_unit o ON o.id = ra.org_id JOIN orga_user u ON u.id = ra.user_id "
        f"WHERE u.active AND ra.role IN ({in_list(roles)}) AND {below} "
        "AND NOT EXISTS (SELECT 1 FROM calling_caller c WHERE c.assignment_id = {} "
        "AND c.user_id = u.id) ORDER BY u.display_name, u.id LIMIT {}",
        *roles,
        *below_args,
        assignment_id,
        limit,
    )


async def remove_caller(org_id: int, assignment_id: int, user_id: int, now: datetime) -> None:
    """Take a user off the roster of an assignment of unit ``org_id``, releasing their live
    reservation first (audited as ``calling.caller_removed``)."""
    async with db.transaction():
        await release_caller(assignment_id, user_id, now)
        await db.execute(
            "DELETE FROM calling_caller WHERE assignment_id = {} AND user_id = {}",
            assignment_id,
            user_id,
        )
        await _audit("calling.caller_removed", org_id, assignment_id, user_id)
    drop_cached("calling_caller")


async def duplicate_assignment(row: dict[str, Any], org_path: str, title: str) -> dict[str, Any]:
    """A new draft assignment of the same unit with ``row``'s settings, survey and roster
    (no dates, no calls), through :func:`create_assignment` (audited as created) and
    :func:`copy_roster`."""
    data = AssignmentIn(
        title=title[:200],
        target=db.json_value(row["target"]),
        description=row["description"],
        instructions=row["instructions"],
        goal=db.json_value(row["goal"]),
        cooldown_hours=row["cooldown_hours"],
        survey=msgspec.convert(db.json_value(row["survey"]), list[Question]),
        show_earlier_notes=bool(row["show_earlier_notes"]),
    )
    async with db.transaction():
        copy = await create_assignment(row["org_id"], org_path, data)
        await copy_roster(row["org_id"], row["id"], copy["id"])
    return copy
