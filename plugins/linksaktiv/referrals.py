"""Volunteer referrals to the campaign leadership, with fallback up the tree and reminders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.api import (
    Actor,
    Page,
    current_runtime,
    db,
    enqueue,
    not_found,
    record,
    record_list,
    utcnow,
)
from plugins.linksaktiv.config import config
from plugins.linksaktiv.lists import page_by_id

__all__ = [
    "JOBS",
    "STATES",
    "holders_for",
    "read_referral",
    "read_referrals",
    "refer",
    "remind",
    "update_referral",
]

STATES = ("new", "contacted", "active", "declined")
PERMISSION = "linksaktiv.referrals"


def _roles() -> list[str]:
    """The roles that carry ``linksaktiv.referrals`` in this deployment."""
    return sorted(r for r, perms in current_runtime().roles.items() if PERMISSION in perms)


async def holders_for(org_path: str) -> tuple[int, list[dict[str, Any]]] | None:
    """The deepest unit on ``org_path`` (the unit or an ancestor) where active users hold
    ``linksaktiv.referrals`` directly, with those users; ``None`` when nobody anywhere."""
    ids = [int(part) for part in org_path.strip("/").split("/") if part]
    roles = _roles()
    if not ids or not roles:
        return None
    unit_marks = ", ".join(["{}"] * len(ids))
    role_marks = ", ".join(["{}"] * len(roles))
    rows = await db.fetch(
        "SELECT DISTINCT ra.org_id, u.id AS user_id, u.email, u.display_name "
        "FROM role_assignment ra JOIN orga_user u ON u.id = ra.user_id "
        f"WHERE ra.org_id IN ({unit_marks}) AND ra.role IN ({role_marks}) AND u.active "
        "ORDER BY u.id",
        *ids,
        *roles,
    )
    for unit in reversed(ids):
        users = [r for r in rows if r["org_id"] == unit]
        if users:
            return unit, users
    return None


async def refer(person_id: int) -> int | None:
    """Hand a volunteer to the leadership of their home unit (or the next unit up with
    someone); the notification and the reminder are queued in the same transaction."""
    person = await db.fetch_one(
        "SELECT u.path FROM person p JOIN org_unit u ON u.id = p.home_org_id WHERE p.id = {}",
        person_id,
    )
    if person is None:
        return None
    if await db.fetch_one(
        "SELECT id FROM linksaktiv_referral WHERE person_id = {} AND status IN ('new', "
        "'contacted', 'active')",
        person_id,
    ):
        return None
    found = await holders_for(person["path"])
    if found is None:
        return None
    unit, _users = found
    now = utcnow()
    rows = await db.fetch(
        "INSERT INTO linksaktiv_referral (org_id, person_id, status, created_at, updated_at) "
        "VALUES ({}, {}, 'new', {}, {}) RETURNING id",
        unit,
        person_id,
        now,
        now,
    )
    referral_id = rows[0]["id"]
    await enqueue(
        "linksaktiv.referral_notify",
        {"referral_id": referral_id},
        dedupe_key=f"linksaktiv.referral_notify:{referral_id}",
    )
    await enqueue(
        "linksaktiv.referral_remind",
        {"referral_id": referral_id},
        run_at=now + timedelta(days=config().referral_reminder_days),
        dedupe_key=f"linksaktiv.referral_remind:{referral_id}",
    )
    return referral_id


async def _mail_holders(referral_id: int, template: str) -> None:
    referral = await db.fetch_one(
        "SELECT r.id, r.org_id, r.status, u.path, u.name AS org_name FROM linksaktiv_referral r "
        "JOIN org_unit u ON u.id = r.org_id WHERE r.id = {}",
        referral_id,
    )
    if referral is None:
        return
    if template.endswith("reminder") and referral["status"] != "new":
        return
    runtime = current_runtime()
    found = await holders_for(referral["path"])
    if found is None:
        return
    link = (
        f"{runtime.settings.public_url.rstrip('/')}/api/orgs/{referral['org_id']}"
        f"/linksaktiv/referrals/{referral_id}"
    )
    for user in found[1]:
        # The mail names no volunteer: the leaders open the referral behind their login.
        await runtime.mailer.send(
            to_email=user["email"],
            template=template,
            context={"name": user["display_name"], "unit": referral["org_name"], "link": link},
            dedupe_key=f"{template}:{referral_id}:{user['user_id']}",
        )
    if template.endswith("reminder"):
        await db.execute(
            "UPDATE linksaktiv_referral SET reminded_at = {} WHERE id = {}", utcnow(), referral_id
        )


async def notify(payload: dict[str, Any]) -> None:
    """Job: tell the unit's referral holders about a new volunteer."""
    await _mail_holders(payload["referral_id"], "mail/linksaktiv_referral")


async def remind(payload: dict[str, Any]) -> None:
    """Job: remind the holders when the referral is still ``new`` after N days."""
    await _mail_holders(payload["referral_id"], "mail/linksaktiv_referral_reminder")


JOBS = {"linksaktiv.referral_notify": notify, "linksaktiv.referral_remind": remind}


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
    sql, args = _REFERRALS, [org_id]
    if status:
        sql += " AND r.status = {}"
        args.append(status)
    page = await page_by_id(sql, args, "r.id", limit, cursor)
    people = [r["person_id"] for r in page.items]
    record_list(request, "linksaktiv.referrals_listed", actor, org_id, people, {"status": status})
    return page


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
