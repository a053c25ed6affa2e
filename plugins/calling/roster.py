"""The roster: who may call an assignment, and the lookups the call routes share."""

from __future__ import annotations

from typing import Any

from core import db
from core.api import Problem, current_runtime, invalid, not_found
from plugins.calling.sql import in_list

__all__ = ["assignment_for_caller", "caller_row", "may_call", "roster"]


async def may_call(user_id: int, assignment_path: str) -> bool:
    """True when the user holds ``calling.call`` on the assignment's unit, an ancestor, or a
    unit below it (a district's callers can join their state's campaign)."""
    roles = [n for n, perms in current_runtime().roles.items() if "calling.call" in perms]
    row = await db.fetch_one(
        "SELECT 1 AS ok FROM role_assignment ra JOIN org_unit o ON o.id = ra.org_id "
        "JOIN orga_user u ON u.id = ra.user_id "
        f"WHERE ra.user_id = {{}} AND u.active AND ra.role IN ({in_list(roles)}) AND "
        "(substr(CAST({} AS TEXT), 1, length(o.path)) = o.path OR o.path LIKE {}) LIMIT 1",
        user_id,
        *roles,
        assignment_path,
        assignment_path + "%",
    )
    return row is not None


async def assignment_for_caller(assignment_id: int, org_path: str) -> dict[str, Any]:
    """An assignment of the request's unit or of an ancestor (callers of a district work on
    their state's campaign through their own unit); else 404."""
    row = await db.fetch_one(
        "SELECT a.*, o.path AS org_path FROM calling_assignment a "
        "JOIN org_unit o ON o.id = a.org_id WHERE a.id = {} "
        "AND substr(CAST({} AS TEXT), 1, length(o.path)) = o.path",
        assignment_id,
        org_path,
    )
    if row is None:
        raise not_found("call assignment")
    return row


async def caller_row(assignment_id: int, user_id: int) -> dict[str, Any]:
    """The user's roster entry; 403 when they are not on the roster."""
    row = await db.fetch_one(
        "SELECT * FROM calling_caller WHERE assignment_id = {} AND user_id = {}",
        assignment_id,
        user_id,
    )
    if row is None:
        raise Problem(
            403,
            "not-on-roster",
            "You are not on this assignment's roster of callers.",
            title="Not a caller of this assignment",
        )
    return row


async def roster(assignment_id: int) -> list[dict[str, Any]]:
    """The roster with each caller's reported calls (one grouped query)."""
    return await db.fetch(
        "SELECT c.user_id, u.display_name, c.prioritized_tags, c.excluded_tags, "
        "(SELECT COUNT(*) FROM calling_call k WHERE k.assignment_id = c.assignment_id "
        "AND k.caller_id = c.user_id AND k.state = 'reported') AS calls "
        "FROM calling_caller c JOIN orga_user u ON u.id = c.user_id "
        "WHERE c.assignment_id = {} ORDER BY c.user_id",
        assignment_id,
    )


async def check_may_call(user_id: int, assignment_path: str) -> None:
    """422 naming ``user_id`` when the user may not call this assignment."""
    if not await may_call(user_id, assignment_path):
        raise invalid("user_id", "the user holds no role with calling.call for this unit")
