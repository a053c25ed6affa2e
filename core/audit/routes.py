"""``GET /api/orgs/{org_id}/audit``: the audit log of a unit's subtree, keyset-paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import get

from core.audit.services import audit_page
from core.auth.guards import OrgScope, requires
from core.pagination import Page

__all__ = ["list_audit"]


class AuditOut(msgspec.Struct):
    """One audit row: ids and action names only."""

    id: int
    at: datetime
    user_id: int | None
    token_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    org_id: int | None
    detail: dict[str, Any] | None


@get("/audit", guards=[requires("audit.view")], tags=["audit"], summary="Audit log")
async def list_audit(
    org: OrgScope,
    user_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    person_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AuditOut]:
    """Newest first; filter by ``user_id``, ``action``, ``object_type``/``object_id``,
    ``since``/``until``, and by ``person_id``: the rows about that person and the list reads
    that showed them."""
    page = await audit_page(
        org.path,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        person_id=person_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[AuditOut(**r) for r in page.items], next_cursor=page.next_cursor)
