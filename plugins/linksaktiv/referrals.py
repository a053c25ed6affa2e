"""Volunteer referrals of a unit: the audited list and reads, and their status."""

from __future__ import annotations

from typing import Any

from core import db
from core.api import Actor, Page, invalid, not_found, record, record_list, utcnow

__all__ = ["read_referral", "read_referrals", "update_referral"]

_REFERRALS = (
    "SELECT r.id, r.org_id, r.person_id, r.status, r.created_at, r.reminded_at, p.first_name, "
    "p.last_name, p.email FROM linksaktiv_referral r JOIN person p ON p.id = r.person_id "
    "WHERE r.org_id = {}"
)


async def read_referrals(
    request: Any, actor: Actor, org_id: int, status: str | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page (by id) of the unit's referrals, ``status`` narrowing it; audited as
    ``linksaktiv.referrals_listed`` with the people shown (written after the answer).

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    limit = max(1, min(limit, 500))
    if cursor is not None and not cursor.isdigit():
        raise invalid("cursor", "not a cursor of this list")
    sql, args = _REFERRALS, [org_id]
    if status:
        sql += " AND r.status = {}"
        args.append(status)
    if cursor:
        sql += " AND r.id > {}"
        args.append(int(cursor))
    rows = await db.fetch(sql + " ORDER BY r.id LIMIT {}", *args, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    people = [r["person_id"] for r in rows]
    record_list(request, "linksaktiv.referrals_listed", actor, org_id, people, {"status": status})
    return Page(rows, str(rows[-1]["id"]) if more else None)


async def _referral(org_id: int, referral_id: int) -> dict[str, Any]:
    row = await db.fetch_one(_REFERRALS + " AND r.id = {}", org_id, referral_id)
    if row is None:
        raise not_found("referral")
    return row


async def read_referral(org_id: int, referral_id: int) -> dict[str, Any]:
    """A referral of unit ``org_id`` (404 for another unit's), audited as ``person.read``."""
    row = await _referral(org_id, referral_id)
    await record("person.read", org_id=org_id, object_type="person", object_id=row["person_id"])
    return row


async def update_referral(org_id: int, referral_id: int, status: str) -> dict[str, Any]:
    """Set the status of a referral of unit ``org_id`` (404 for another unit's), audited as
    ``linksaktiv.referral_updated``; returns it."""
    await _referral(org_id, referral_id)
    async with db.transaction():
        await db.execute(
            "UPDATE linksaktiv_referral SET status = {}, updated_at = {} WHERE id = {}",
            status,
            utcnow(),
            referral_id,
        )
        await record(
            "linksaktiv.referral_updated",
            org_id=org_id,
            object_type="referral",
            object_id=referral_id,
            detail={"status": status},
        )
    return await _referral(org_id, referral_id)
