"""Routes of the calling module (mounted under ``/api/orgs/{org_id}/calling``)."""

from __future__ import annotations

from litestar import get, post

from core.api import Actor, OrgScope, Page, get_in_org, page_in_org, record, requires
from plugins.calling import services
from plugins.calling.schemas import AssignmentIn, AssignmentOut
from plugins.calling.tables import CallAssignment

__all__ = ["handlers"]


@get("/assignments", guards=[requires("calling.call")], summary="Call assignments of this unit")
async def list_assignments(
    org: OrgScope, limit: int = 50, cursor: str | None = None
) -> Page[AssignmentOut]:
    """Assignments of the unit, newest first."""
    page = await page_in_org(CallAssignment, org, limit, cursor)
    return Page([services.assignment_out(r) for r in page.items], page.next_cursor)


@post("/assignments", guards=[requires("calling.manage")], summary="Create a call assignment")
async def create_assignment(actor: Actor, org: OrgScope, data: AssignmentIn) -> AssignmentOut:
    """Create an assignment; its targets are people of this unit's subtree."""
    row = await services.create_assignment(org.id, data)
    await record(
        "calling.assignment_created",
        user_id=actor.user_id,
        org_id=org.id,
        object_type="call_assignment",
        object_id=row["id"],
    )
    return services.assignment_out(row)


@get(
    "/assignments/{assignment_id:int}",
    guards=[requires("calling.call")],
    summary="One call assignment",
)
async def get_assignment(org: OrgScope, assignment_id: int) -> AssignmentOut:
    """An assignment of this unit (404 for one of another unit)."""
    row = await get_in_org(CallAssignment, assignment_id, org, "call assignment")
    return services.assignment_out(row)


def handlers() -> list:
    """Route handlers of the calling module."""
    return [list_assignments, create_assignment, get_assignment]
