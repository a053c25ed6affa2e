"""Follow-ups from calls, seen by the organizers of the person's home unit and above."""

from __future__ import annotations

from typing import Any

from core.api import (
    Actor,
    Page,
    check_limit,
    db,
    decode_cursor,
    invalid,
    not_found,
    page_of,
    record_list,
    scope,
    utcnow,
)
from plugins.calling.schemas import FollowUpOut

__all__ = ["list_followups", "read_followups", "set_status"]

_SELECT = (
    "SELECT f.id, f.person_id, p.first_name, p.last_name, p.home_org_id, f.kind, f.message, "
    "f.status, f.assignment_id, f.created_at, f.done_at FROM calling_followup f "
    "JOIN person p ON p.id = f.person_id "
)


def _out(row: dict[str, Any]) -> FollowUpOut:
    return FollowUpOut(**row)


async def list_followups(org_path: str, status: str, limit: int, cursor: str | None) -> Any:
    """A keyset page (newest first) of follow-ups whose person lives in the subtree."""
    if status not in ("open", "done"):
        raise invalid("status", "open or done")
    check_limit(limit)
    condition, args = await scope(org_path)
    sql = _SELECT + f"WHERE f.status = {{}} AND {condition}"
    values: list[Any] = [status, *args]
    key = decode_cursor(cursor)
    if key is not None:
        sql += " AND f.id < {}"
        values.append(int(key[0]))
    rows = await db.fetch(sql + " ORDER BY f.id DESC LIMIT {}", *values, limit + 1)
    page = page_of(rows, limit, key=lambda r: [r["id"]])
    return Page([_out(r) for r in page.items], page.next_cursor)


async def read_followups(
    request: Any,
    actor: Actor,
    org_id: int,
    org_path: str,
    status: str,
    limit: int,
    cursor: str | None,
) -> Page[FollowUpOut]:
    """A page of :func:`list_followups` for ``actor`` reading unit ``org_id``, audited as
    ``calling.followups_listed`` with the status and the people shown (written after the
    answer)."""
    page = await list_followups(org_path, status, limit, cursor)
    people = [item.person_id for item in page.items]
    record_list(request, "calling.followups_listed", actor, org_id, people, {"status": status})
    return page


async def set_status(org_path: str, followup_id: int, status: str, user_id: int) -> FollowUpOut:
    """Close or reopen a follow-up of the subtree (404 outside it)."""
    condition, args = await scope(org_path)
    row = await db.fetch_one(_SELECT + f"WHERE f.id = {{}} AND {condition}", followup_id, *args)
    if row is None:
        raise not_found("follow-up")
    done = status == "done"
    await db.execute(
        "UPDATE calling_followup SET status = {}, done_by = {}, done_at = {}, updated_at = {} "
        "WHERE id = {}",
        status,
        user_id if done else None,
        utcnow() if done else None,
        utcnow(),
        followup_id,
    )
    row = await db.fetch_one(_SELECT + "WHERE f.id = {}", followup_id)
    return _out(row)
