"""Follow-ups from calls, seen by the organizers of the person's home unit and above."""

from __future__ import annotations

from typing import Any

import msgspec

from core.api import (
    N_,
    Actor,
    Page,
    check_limit,
    db,
    decode_cursor,
    invalid,
    not_found,
    page_of,
    record,
    record_list,
    scope,
    users_with_permission,
    utcnow,
)
from plugins.calling.schemas import FollowUpOut, FollowUpPatch

__all__ = [
    "KINDS",
    "assignable_by_home",
    "assignable_users",
    "list_followups",
    "read_followups",
    "update_followup",
]

KINDS = ("organizer_action", "local_contact")

_SELECT = (
    "SELECT f.id, f.person_id, p.first_name, p.last_name, p.home_org_id, f.kind, f.message, "
    "f.status, f.assignment_id, f.created_at, f.done_at, f.assigned_to, "
    "a.display_name AS assigned_name, f.note FROM calling_followup f "
    "JOIN person p ON p.id = f.person_id LEFT JOIN orga_user a ON a.id = f.assigned_to "
)


def _out(row: dict[str, Any]) -> FollowUpOut:
    return FollowUpOut(**row)


async def list_followups(
    org_path: str, status: str, limit: int, cursor: str | None, kind: str | None = None
) -> Any:
    """A keyset page (newest first) of follow-ups whose person lives in the subtree, of one
    ``kind`` when given."""
    if status not in ("open", "done"):
        raise invalid("status", "open or done")
    if kind is not None and kind not in KINDS:
        raise invalid("kind", "organizer_action or local_contact")
    check_limit(limit)
    condition, args = await scope(org_path)
    sql = _SELECT + f"WHERE f.status = {{}} AND {condition}"
    values: list[Any] = [status, *args]
    if kind is not None:
        sql += " AND f.kind = {}"
        values.append(kind)
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
    kind: str | None = None,
) -> Page[FollowUpOut]:
    """A page of :func:`list_followups` for ``actor`` reading unit ``org_id``, audited as
    ``calling.followups_listed`` with the status, kind and the people shown (written after
    the answer)."""
    page = await list_followups(org_path, status, limit, cursor, kind)
    people = [item.person_id for item in page.items]
    filters = {"status": status, "kind": kind}
    record_list(request, "calling.followups_listed", actor, org_id, people, filters)
    return page


async def assignable_users(org_path: str) -> list[dict[str, Any]]:
    """Users who may take a follow-up of a person living at ``org_path``: active holders of
    ``calling.manage`` there (a role on that unit or above), by name."""
    ids = await users_with_permission("calling.manage", org_path)
    if not ids:
        return []
    marks = ", ".join(["{}"] * len(ids))
    return await db.fetch(
        f"SELECT id, display_name FROM orga_user WHERE id IN ({marks}) ORDER BY display_name, id",
        *ids,
    )


async def assignable_by_home(home_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """:func:`assignable_users` for each of these home units (the people on one page)."""
    found: dict[int, list[dict[str, Any]]] = {}
    for home in home_ids:
        row = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", home)
        found[home] = await assignable_users(row["path"])
    return found


async def update_followup(
    org_id: int, org_path: str, followup_id: int, data: FollowUpPatch, user_id: int
) -> FollowUpOut:
    """Assign a follow-up of the subtree to someone (``assigned_to``; ``None`` takes it back),
    close it with a ``note`` or reopen it (404 outside the subtree); audited as
    ``calling.followup_changed`` with what changed.

    Raises:
        Problem: 404 for a follow-up outside the subtree, 422 (``assigned_to``) for a user
            who does not hold ``calling.manage`` on the person's home unit.
    """
    condition, args = await scope(org_path)
    row = await db.fetch_one(_SELECT + f"WHERE f.id = {{}} AND {condition}", followup_id, *args)
    if row is None:
        raise not_found("follow-up")
    now = utcnow()
    changes: dict[str, Any] = {}
    if data.assigned_to is not msgspec.UNSET and data.assigned_to != row["assigned_to"]:
        if data.assigned_to is not None:
            home = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", row["home_org_id"])
            allowed = {u["id"] for u in await assignable_users(home["path"])}
            if data.assigned_to not in allowed:
                raise invalid("assigned_to", N_("Not an organizer of the person's home unit."))
        changes["assigned_to"] = data.assigned_to
    if data.note is not msgspec.UNSET and data.note != row["note"]:
        changes["note"] = data.note
    if data.status is not msgspec.UNSET and data.status != row["status"]:
        done = data.status == "done"
        changes |= {
            "status": data.status,
            "done_by": user_id if done else None,
            "done_at": now if done else None,
        }
    if changes:
        sets = ", ".join(f"{column} = {{}}" for column in changes)
        await db.execute(
            f"UPDATE calling_followup SET {sets}, updated_at = {{}} WHERE id = {{}}",
            *changes.values(),
            now,
            followup_id,
        )
        await record(
            "calling.followup_changed",
            org_id=org_id,
            object_type="person",
            object_id=row["person_id"],
            detail={
                "followup_id": followup_id,
                **{k: v for k, v in changes.items() if k in ("assigned_to", "status")},
                **({"note": True} if "note" in changes else {}),
            },
        )
    row = await db.fetch_one(_SELECT + "WHERE f.id = {}", followup_id)
    return _out(row)
