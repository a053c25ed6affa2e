"""``GET /api/orgs/{org_id}/audit``: the audit log of a unit's subtree, keyset-paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import get

from core import db
from core.audit.services import about_person_sql
from core.auth.guards import OrgScope, requires
from core.pagination import Page, check_limit, decode_cursor, page_of

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
    person_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AuditOut]:
    """Newest first; filter by ``user_id``, ``action``, ``since``/``until``, and by
    ``person_id``: the rows about that person and the list reads that showed them."""
    check_limit(limit)
    where = ["a.org_id IN (SELECT id FROM org_unit WHERE substr(path, 1, {}) = {})"]
    args: list[Any] = [len(org.path), org.path]
    if person_id is not None:
        where.append(about_person_sql())
        args += [person_id, person_id]
    for clause, value in (
        ("a.user_id = {}", user_id),
        ("a.action = {}", action),
        ("a.at >= {}", since),
        ("a.at < {}", until),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    key = decode_cursor(cursor)
    if key is not None:
        where.append("a.id < {}")
        args.append(int(key[0]))
    rows = await db.fetch(
        "SELECT a.id, a.at, a.user_id, a.token_id, a.action, a.object_type, a.object_id, "
        f"a.org_id, a.detail FROM audit_log a WHERE {' AND '.join(where)} "
        "ORDER BY a.id DESC LIMIT {}",
        *args,
        limit + 1,
    )
    for row in rows:
        row["detail"] = db.json_value(row["detail"])
    page = page_of(rows, limit, key=lambda r: [r["id"]])
    return Page(items=[AuditOut(**r) for r in page.items], next_cursor=page.next_cursor)
