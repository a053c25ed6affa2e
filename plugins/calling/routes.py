"""Assignment, roster, statistics and follow-up routes (under ``/api/orgs/{org_id}/calling``)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from core.api import (
    ETAG_HEADERS,
    PRECONDITION_RESPONSES,
    Actor,
    IfMatch,
    OrgScope,
    Page,
    check_if_match,
    check_limit,
    db,
    decode_cursor,
    get_in_org,
    page_in_org,
    page_of,
    requires,
    utcnow,
    with_etag,
)
from plugins.calling import assignments, followups, roster
from plugins.calling.call_routes import call_handlers, me_handlers
from plugins.calling.schemas import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPatch,
    CallerIn,
    CallerOut,
    DuplicateIn,
    FollowUpOut,
    FollowUpPatch,
    Stats,
)
from plugins.calling.stats import assignment_stats
from plugins.calling.tables import CallAssignment

__all__ = ["handlers", "me_handlers"]

MANAGE = [requires("calling.manage")]


async def _out(row: dict[str, Any]) -> AssignmentOut:
    return assignments.assignment_out(
        row, (await assignments.target_counts([row["id"]])).get(row["id"], 0)
    )


@get("/assignments", guards=[requires("calling.call")], summary="Call assignments of this unit")
async def list_assignments(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[AssignmentOut]:
    """Assignments of the unit, newest first, with their number of targets."""
    page = await page_in_org(CallAssignment, org, limit, cursor)
    counts = await assignments.target_counts([r["id"] for r in page.items])
    return Page(
        [assignments.assignment_out(r, counts.get(r["id"], 0)) for r in page.items],
        page.next_cursor,
    )


@post("/assignments", guards=MANAGE, summary="Create a call assignment")
async def create_assignment(org: OrgScope, data: AssignmentIn) -> AssignmentOut:
    """Create an assignment; its queue holds the target segment's people of this subtree."""
    row = await assignments.create_assignment(org.id, org.path, data)
    return await _out(row)


@get(
    "/assignments/{assignment_id:int}",
    guards=MANAGE,
    summary="One call assignment",
    response_headers=ETAG_HEADERS,
)
async def get_assignment(org: OrgScope, assignment_id: int) -> Response[AssignmentOut]:
    """An assignment of this unit (404 for one of another unit), with its ETag."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    return with_etag(await _out(row), row)


@patch(
    "/assignments/{assignment_id:int}",
    guards=MANAGE,
    summary="Change a call assignment",
    response_headers=ETAG_HEADERS,
    responses=PRECONDITION_RESPONSES,
)
async def patch_assignment(
    org: OrgScope, assignment_id: int, data: AssignmentPatch, if_match: IfMatch = None
) -> Response[AssignmentOut]:
    """Change fields; a new target refreshes the queue. Send the ETag you read as
    ``If-Match``: 412 if someone changed the assignment since."""
    async with db.transaction():
        row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
        await check_if_match(if_match, CallAssignment, row)
        row = await assignments.update_assignment(row, org.path, data)
    return with_etag(await _out(row), row)


@delete(
    "/assignments/{assignment_id:int}",
    guards=MANAGE,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a call assignment without calls",
)
async def delete_assignment(org: OrgScope, assignment_id: int) -> None:
    """Delete an assignment nobody has called for yet (409 otherwise: close it)."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    await assignments.delete_assignment(row)


@post(
    "/assignments/{assignment_id:int}/duplicate",
    guards=MANAGE,
    summary="Duplicate a call assignment",
)
async def duplicate_assignment(
    org: OrgScope, assignment_id: int, data: DuplicateIn
) -> AssignmentOut:
    """A new draft with the assignment's settings, survey and roster under a new title (no
    dates, no calls)."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    return await _out(await roster.duplicate_assignment(row, org.path, data.title))


class Refreshed(msgspec.Struct):
    """How many people joined the queue, and its size now."""

    added: int
    targets: int


@post("/assignments/{assignment_id:int}/refresh", guards=MANAGE, summary="Refresh the queue")
async def refresh(org: OrgScope, assignment_id: int) -> Refreshed:
    """Add new members of the target segment to the queue and drop those who left it."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    async with db.transaction():
        added = await assignments.refresh_targets(row, org.path)
    return Refreshed(
        added, (await assignments.target_counts([assignment_id])).get(assignment_id, 0)
    )


@get("/assignments/{assignment_id:int}/callers", guards=MANAGE, summary="The roster")
async def list_callers(
    org: OrgScope, assignment_id: int, limit: int = 50, cursor: str | None = None
) -> Page[CallerOut]:
    """Users on the roster with their calls so far, by user id (keyset pages)."""
    await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    check_limit(limit)
    key = decode_cursor(cursor)
    rows = await roster.roster(assignment_id, limit + 1, key[0] if key else 0)
    page = page_of(rows, limit, key=lambda r: [r["user_id"]])
    return Page([_caller_out(r) for r in page.items], page.next_cursor)


def _caller_out(row: dict[str, Any]) -> CallerOut:
    return CallerOut(
        user_id=row["user_id"],
        display_name=row["display_name"],
        prioritized_tags=db.json_value(row["prioritized_tags"]) or [],
        excluded_tags=db.json_value(row["excluded_tags"]) or [],
        calls=int(row["calls"]),
    )


@post("/assignments/{assignment_id:int}/callers", guards=MANAGE, summary="Add a caller")
async def add_caller(org: OrgScope, assignment_id: int, data: CallerIn) -> CallerOut:
    """Put a user holding ``calling.call`` here on the roster (again: update their tags);
    answers their roster entry."""
    await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    await roster.add_caller(org.id, org.path, assignment_id, data)
    entry = await roster.roster_entry(assignment_id, data.user_id)
    assert entry is not None
    return _caller_out(entry)


@delete(
    "/assignments/{assignment_id:int}/callers/{user_id:int}",
    guards=MANAGE,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove a caller",
)
async def remove_caller(org: OrgScope, assignment_id: int, user_id: int) -> None:
    """Take a user off the roster; their open reservation is released."""
    await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    await roster.remove_caller(org.id, assignment_id, user_id, utcnow())


@get("/assignments/{assignment_id:int}/stats", guards=MANAGE, summary="Progress of an assignment")
async def stats(org: OrgScope, assignment_id: int) -> Stats:
    """Targets, goal matches, remaining, calls, reached, blocked by reason, per caller, day
    and child unit."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    return await assignment_stats(row, org.path, utcnow())


@get("/followups", guards=MANAGE, summary="Follow-ups for people of this subtree")
async def list_followups(
    request: Request,
    actor: Actor,
    org: OrgScope,
    status: str = "open",
    kind: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[FollowUpOut]:
    """Follow-ups whose person's home unit is in this unit's subtree (``status`` open|done,
    ``kind`` organizer_action|local_contact); each page audited with the ids shown."""
    return await followups.read_followups(
        request, actor, org.id, org.path, status, limit, cursor, kind
    )


@patch("/followups/{followup_id:int}", guards=MANAGE, summary="Assign, close or reopen a follow-up")
async def patch_followup(
    actor: Actor, org: OrgScope, followup_id: int, data: FollowUpPatch
) -> FollowUpOut:
    """Assign a follow-up (``assigned_to``), mark it done with a ``note`` (or open again)."""
    return await followups.update_followup(org.id, org.path, followup_id, data, actor.user_id)


def handlers() -> list:
    """Route handlers of the calling module under the org unit."""
    return [
        list_assignments,
        create_assignment,
        get_assignment,
        patch_assignment,
        delete_assignment,
        duplicate_assignment,
        refresh,
        list_callers,
        add_caller,
        remove_caller,
        stats,
        list_followups,
        patch_followup,
        *call_handlers(),
    ]
