"""The caller's own calls: the card of a reservation, calling someone back, their assignments
and live reservations (the services behind ``call_routes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.api import db, not_found, record, utcnow
from plugins.calling import queue, roster
from plugins.calling.schemas import CallOut, MyOpenCall
from plugins.calling.sql import in_list
from plugins.calling.views import call_view

__all__ = ["call_back", "my_assignment_rows", "my_open_calls", "view_call"]


async def view_call(call_id: int, org_path: str, user_id: int) -> CallOut:
    """The card of the user's call (of an assignment visible from ``org_path``) while their
    reservation is live, audited as ``calling.call_viewed``; else 404."""
    call, assignment = await roster.my_call(call_id, org_path, user_id)
    if call["state"] != "reserved" or call["reserved_until"] <= utcnow():
        raise not_found("call")
    await record(
        "calling.call_viewed",
        user_id=user_id,
        org_id=assignment["org_id"],
        object_type="person",
        object_id=call["person_id"],
        detail={"call_id": call_id},
    )
    return await call_view(assignment, call_id, call["person_id"], call["reserved_until"])


async def call_back(
    assignment: dict[str, Any],
    caller: dict[str, Any],
    person_id: int,
    now: datetime,
    audit: queue.Audit,
) -> queue.Reservation | None:
    """Reserve ``person_id``, whom the caller called before in this assignment, ignoring their
    cooldown (``None`` when they are being called or may not be called; 404 when the caller
    never reported a call with them here)."""
    earlier = await db.fetch_one(
        "SELECT 1 AS x FROM calling_call WHERE assignment_id = {} AND caller_id = {} "
        "AND person_id = {} AND state = 'reported' LIMIT 1",
        assignment["id"],
        audit[0],
        person_id,
    )
    if earlier is None:
        raise not_found("earlier call with this person")
    return await queue.reserve(
        assignment, assignment["org_path"], caller, now, audit=audit, person_id=person_id
    )


async def my_assignment_rows(user_id: int, before: int | None, limit: int) -> list[dict[str, Any]]:
    """The assignments whose roster holds the user, newest first, below id ``before``."""
    below = "" if before is None else " AND a.id < {}"
    return await db.fetch(
        "SELECT a.id, a.org_id, a.title, a.start_at, a.end_at, o.path, o.name AS org_name "
        "FROM calling_caller c JOIN calling_assignment a ON a.id = c.assignment_id "
        f"JOIN org_unit o ON o.id = a.org_id WHERE c.user_id = {{}}{below} "
        "ORDER BY a.id DESC LIMIT {}",
        user_id,
        *([] if before is None else [before]),
        limit,
    )


async def my_open_calls(
    user_id: int, assignment_ids: list[int], now: datetime
) -> dict[int, list[MyOpenCall]]:
    """The user's live reservations in these assignments."""
    if not assignment_ids:
        return {}
    calls: dict[int, list[MyOpenCall]] = {}
    for call in await db.fetch(
        "SELECT id, assignment_id, reserved_until FROM calling_call WHERE caller_id = {} "
        "AND state = 'reserved' AND reserved_until > {} "
        f"AND assignment_id IN ({in_list(assignment_ids)}) ORDER BY id",
        user_id,
        now,
        *assignment_ids,
    ):
        calls.setdefault(call["assignment_id"], []).append(
            MyOpenCall(call["id"], call["reserved_until"])
        )
    return calls
