"""``/api/orgs/{org_id}/segments``: preview a segment and keep saved ones.

The request body type is the run-time union of core and module filters, so this module builds
its handlers inside :func:`segment_router` (and avoids postponed annotations).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Optional

import msgspec
from litestar import Request, Router, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from core import db
from core.auth.actor import Actor
from core.auth.guards import OrgScope, org_guard, requires
from core.orgs.owned import get_in_org, page_in_org
from core.pagination import Page
from core.segments import services
from core.segments.tables import SavedSegment

__all__ = ["segment_router"]


class SampleRow(msgspec.Struct):
    """A person in a preview sample."""

    id: int
    first_name: str
    last_name: str
    home_org_id: int


class Preview(msgspec.Struct):
    """How many people a segment matches in this unit's subtree, and a few of them."""

    count: int
    sample: list[SampleRow]


def segment_router(segment: type[msgspec.Struct]) -> Router:
    """Routes for the segment type ``segment`` (core and module filters)."""

    class SavedIn(msgspec.Struct, forbid_unknown_fields=True):
        """A segment to keep under a name."""

        name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
        definition: segment

    class SavedPatch(msgspec.Struct, forbid_unknown_fields=True):
        """Rename or redefine a saved segment."""

        name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = (
            msgspec.UNSET
        )
        definition: segment | msgspec.UnsetType = msgspec.UNSET

    class SavedOut(msgspec.Struct):
        """A saved segment."""

        id: int
        org_id: int
        name: str
        definition: segment
        updated_at: datetime

    def out(row: dict[str, Any]) -> SavedOut:
        definition = db.json_value(row["definition"])
        return SavedOut(
            id=row["id"],
            org_id=row["org_id"],
            name=row["name"],
            definition=msgspec.convert(definition, segment),
            updated_at=row["updated_at"],
        )

    async def load(org: OrgScope, segment_id: int) -> dict[str, Any]:
        return await get_in_org(SavedSegment, segment_id, org, "segment")

    @post(
        "/preview",
        guards=[requires("people.view")],
        status_code=HTTP_200_OK,
        summary="Count and sample a segment",
    )
    async def preview(request: Request, actor: Actor, org: OrgScope, data: segment) -> Preview:
        """Count the matching people in this subtree (one SQL query) and show the first ten;
        audited with the definition and the ids shown."""
        count, rows = await services.preview_segment(request, actor, org.id, org.path, data)
        return Preview(count=count, sample=[SampleRow(**row) for row in rows])

    @get("/", guards=[requires("people.view")], summary="Saved segments of this unit")
    async def list_saved(
        org: OrgScope,
        limit: int = 50,
        cursor: Optional[str] = None,  # noqa: UP045
    ) -> Page[SavedOut]:
        """Saved segments of the unit, newest first."""
        page = await page_in_org(SavedSegment, org, limit, cursor)
        return Page([out(r) for r in page.items], page.next_cursor)

    @post("/", guards=[requires("segments.manage")], summary="Save a segment")
    async def create_saved(org: OrgScope, data: SavedIn) -> SavedOut:
        """Keep a segment under a name (it may include saved segments of this unit or above)."""
        segment_id = await services.create_saved(org.id, org.path, data.name, data.definition)
        return out(await load(org, segment_id))

    @get("/{segment_id:int}", guards=[requires("people.view")], summary="One saved segment")
    async def get_saved(org: OrgScope, segment_id: int) -> SavedOut:
        """A saved segment of this unit."""
        return out(await load(org, segment_id))

    @patch(
        "/{segment_id:int}", guards=[requires("segments.manage")], summary="Change a saved segment"
    )
    async def patch_saved(org: OrgScope, segment_id: int, data: SavedPatch) -> SavedOut:
        """Rename or redefine (422 when the definition would include this segment again)."""
        await load(org, segment_id)
        await services.update_saved(
            segment_id,
            org.path,
            None if data.name is msgspec.UNSET else data.name,
            None if data.definition is msgspec.UNSET else data.definition,
        )
        return out(await load(org, segment_id))

    @delete(
        "/{segment_id:int}",
        guards=[requires("segments.manage")],
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a saved segment",
    )
    async def delete_saved(org: OrgScope, segment_id: int) -> None:
        """Delete a saved segment of this unit (409 while another saved segment includes it)."""
        await load(org, segment_id)
        await services.delete_saved(segment_id, org.path)

    handlers: list[Callable[..., Any]] = [
        preview,
        list_saved,
        create_saved,
        get_saved,
        patch_saved,
        delete_saved,
    ]
    return Router(
        path="/api/orgs/{org_id:int}/segments",
        route_handlers=handlers,
        guards=[org_guard()],
        tags=["segments"],
    )
