"""Volunteer referrals to the campaign leadership, with fallback up the tree, reminders, the
leadership's answer (accept, pass up the tree, decline, each with a note) and escalation up
the tree when nobody answers in ``referral_escalate_days``.

Every routing to a unit (the first one, a pass, an escalation) sets ``routed_at`` and queues
three jobs for that unit: the notification, the reminder and the escalation; the reminder and
the escalation do nothing once the referral was answered or moved on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from core.api import (
    N_,
    Actor,
    Page,
    conflict,
    current_runtime,
    db,
    enqueue,
    invalid,
    not_found,
    record,
    record_list,
    utcnow,
)
from plugins.linksaktiv.config import config
from plugins.linksaktiv.lists import page_by_id

__all__ = [
    "ACTIONS",
    "JOBS",
    "NOTE_LENGTH",
    "OPEN_STATES",
    "STATES",
    "answer",
    "escalate",
    "holders_for",
    "inbox_history",
    "inbox_open",
    "inbox_path",
    "read_referral",
    "read_referrals",
    "refer",
    "remind",
    "update_referral",
]

STATES = ("new", "accepted", "contacted", "active", "declined")
OPEN_STATES = ("new", "accepted", "contacted", "active")
PERMISSION = "linksaktiv.referrals"
Action = Literal["accept", "pass", "decline"]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
NOTE_LENGTH = 2000


def inbox_path(org_id: int) -> str:
    """The console inbox of a unit's referrals (where the mails link to)."""
    return f"/app/orgs/{org_id}/linksaktiv/referrals"


def _roles() -> list[str]:
    """The roles that carry ``linksaktiv.referrals`` in this deployment (``[orga.roles]``)."""
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
    open_marks = ", ".join(["{}"] * len(OPEN_STATES))
    if await db.fetch_one(
        f"SELECT id FROM linksaktiv_referral WHERE person_id = {{}} AND status IN ({open_marks})",
        person_id,
        *OPEN_STATES,
    ):
        return None
    found = await holders_for(person["path"])
    if found is None:
        return None
    unit, _users = found
    now = utcnow()
    rows = await db.fetch(
        "INSERT INTO linksaktiv_referral (org_id, person_id, status, routed_at, created_at, "
        "updated_at) VALUES ({}, {}, 'new', {}, {}, {}) RETURNING id",
        unit,
        person_id,
        now,
        now,
        now,
    )
    referral_id = rows[0]["id"]
    await _routed(referral_id, unit, now)
    return referral_id


async def _routed(referral_id: int, unit: int, now: Any) -> None:
    """Queue the notification, the reminder and the escalation of a referral's new unit."""
    settings = config()
    payload = {"referral_id": referral_id, "org_id": unit}
    await enqueue(
        "linksaktiv.referral_notify",
        payload,
        dedupe_key=f"linksaktiv.referral_notify:{referral_id}:{unit}",
    )
    await enqueue(
        "linksaktiv.referral_remind",
        payload,
        run_at=now + timedelta(days=settings.referral_reminder_days),
        dedupe_key=f"linksaktiv.referral_remind:{referral_id}:{unit}",
    )
    if settings.referral_escalate_days > 0:
        await enqueue(
            "linksaktiv.referral_escalate",
            payload,
            run_at=now + timedelta(days=settings.referral_escalate_days),
            dedupe_key=f"linksaktiv.referral_escalate:{referral_id}:{unit}",
        )


async def _mail_holders(payload: dict[str, Any], template: str) -> None:
    referral_id = payload["referral_id"]
    referral = await db.fetch_one(
        "SELECT r.id, r.org_id, r.status, u.path, u.name AS org_name FROM linksaktiv_referral r "
        "JOIN org_unit u ON u.id = r.org_id WHERE r.id = {}",
        referral_id,
    )
    if referral is None or referral["org_id"] != payload.get("org_id", referral["org_id"]):
        return  # gone, or passed on meanwhile: the new unit has its own jobs
    if template.endswith("reminder") and referral["status"] != "new":
        return
    runtime = current_runtime()
    found = await holders_for(referral["path"])
    if found is None:
        return
    unit = referral["org_id"]
    link = f"{runtime.settings.public_url.rstrip('/')}{inbox_path(unit)}#referral-{referral_id}"
    for user in found[1]:
        # The mail names no volunteer: the leaders open the inbox behind their login.
        await runtime.mailer.send(
            to_email=user["email"],
            template=template,
            context={"name": user["display_name"], "unit": referral["org_name"], "link": link},
            dedupe_key=f"{template}:{referral_id}:{unit}:{user['user_id']}",
        )
    if template.endswith("reminder"):
        await db.execute(
            "UPDATE linksaktiv_referral SET reminded_at = {} WHERE id = {}", utcnow(), referral_id
        )


async def notify(payload: dict[str, Any]) -> None:
    """Job: tell the unit's referral holders about a new volunteer."""
    await _mail_holders(payload, "mail/linksaktiv_referral")


async def remind(payload: dict[str, Any]) -> None:
    """Job: remind the holders when the referral is still ``new`` at their unit after N
    days."""
    await _mail_holders(payload, "mail/linksaktiv_referral_reminder")


async def escalate(payload: dict[str, Any]) -> None:
    """Job: a referral still ``new`` at the unit ``referral_escalate_days`` after it got there
    moves to the next unit up whose members hold ``linksaktiv.referrals`` (audited as
    ``linksaktiv.referral_escalated``, a step ``escalated``); at the top it stays. Run again
    later when the setting grew since it was queued; nothing when it is 0 now."""
    row = await db.fetch_one(
        "SELECT r.org_id, r.status, r.routed_at, u.path FROM linksaktiv_referral r "
        "JOIN org_unit u ON u.id = r.org_id WHERE r.id = {}",
        payload["referral_id"],
    )
    days = config().referral_escalate_days
    if row is None or row["status"] != "new" or row["org_id"] != payload["org_id"] or days <= 0:
        return  # answered, moved on, or escalation switched off since
    due = row["routed_at"] + timedelta(days=days)
    now = utcnow()
    if due > now:
        await enqueue(
            "linksaktiv.referral_escalate",
            payload,
            run_at=due,
            dedupe_key=f"linksaktiv.referral_escalate:{payload['referral_id']}:"
            f"{row['org_id']}:{due.isoformat()}",
        )
        return
    above = await _unit_above(row["path"])
    if above is None:
        return
    async with db.transaction():
        if not await _move(payload["referral_id"], row["org_id"], above, "escalated", "", None):
            return  # answered in the meantime
        await record(
            "linksaktiv.referral_escalated",
            user_id=None,
            token_id=None,
            org_id=row["org_id"],
            object_type="referral",
            object_id=payload["referral_id"],
            detail={"to_org_id": above},
        )


JOBS = {
    "linksaktiv.referral_notify": notify,
    "linksaktiv.referral_remind": remind,
    "linksaktiv.referral_escalate": escalate,
}


async def _unit_above(path: str) -> int | None:
    """The next unit above the one at ``path`` where someone holds ``linksaktiv.referrals``."""
    parent = "/".join(path.rstrip("/").split("/")[:-1]) + "/"
    if parent.strip("/") == "":
        return None
    found = await holders_for(parent)
    return found[0] if found else None


async def _move(
    referral_id: int, unit: int, above: int, action: str, note: str, user_id: int | None
) -> bool:
    """Route a referral still ``new`` at ``unit`` to ``above`` (a step, ``routed_at``, the
    new unit's jobs); ``False`` when someone answered or moved it meanwhile."""
    now = utcnow()
    moved = await db.fetch(
        "UPDATE linksaktiv_referral SET org_id = {}, routed_at = {}, reminded_at = NULL, "
        "updated_at = {} WHERE id = {} AND org_id = {} AND status = 'new' RETURNING id",
        above,
        now,
        now,
        referral_id,
        unit,
    )
    if not moved:
        return False
    await _step(referral_id, unit, action, note, user_id, above)
    await _routed(referral_id, above, now)
    return True


async def _step(
    referral_id: int,
    unit: int,
    action: str,
    note: str,
    user_id: int | None,
    to_org: int | None = None,
) -> None:
    await db.execute(
        "INSERT INTO linksaktiv_referral_step (referral_id, org_id, to_org_id, action, note, "
        "user_id, created_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
        referral_id,
        unit,
        to_org,
        action,
        note,
        user_id,
        utcnow(),
    )


async def answer(
    org_id: int, org_path: str, referral_id: int, action: str, note: str, user_id: int
) -> dict[str, Any]:
    """The leadership's answer to a referral waiting at unit ``org_id``: ``accept`` (status
    ``accepted``), ``pass`` (to the next unit up where someone holds the permission, which is
    notified) or ``decline``, with an optional note; a step and an audit row
    ``linksaktiv.referral_answered``. Returns the referral.

    Raises:
        Problem: 404 for another unit's referral; 422 naming ``action`` or ``note``; 409
            naming ``action`` when it was answered already or nobody above receives it.
    """
    if action not in ACTIONS:
        raise invalid("action", N_("choose accept, pass or decline"))
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        raise invalid("note", N_("at most %(n)s characters"), n=NOTE_LENGTH)
    row = await _referral(org_id, referral_id)
    if row["status"] != "new":
        raise conflict(N_("This referral was answered already."), "action")
    above = None
    if action == "pass":
        above = await _unit_above(org_path)
        if above is None:
            raise conflict(N_("No unit above this one receives referrals."), "action")
    async with db.transaction():
        if above is not None:
            done = await _move(referral_id, org_id, above, "passed", note, user_id)
        else:
            status = "accepted" if action == "accept" else "declined"
            done = await db.fetch(  # only while still new here: two answers, one wins
                "UPDATE linksaktiv_referral SET status = {}, updated_at = {} "
                "WHERE id = {} AND org_id = {} AND status = 'new' RETURNING id",
                status,
                utcnow(),
                referral_id,
                org_id,
            )
            if done:
                await _step(referral_id, org_id, status, note, user_id)
        if not done:
            raise conflict(N_("This referral was answered already."), "action")
        await record(
            "linksaktiv.referral_answered",
            org_id=org_id,
            object_type="referral",
            object_id=referral_id,
            detail={"action": action, "to_org_id": above},
        )
    return await db.fetch_one(_SELECT + " WHERE r.id = {}", referral_id)


_SELECT = (
    "SELECT r.id, r.org_id, r.person_id, r.status, r.created_at, r.reminded_at, r.routed_at, "
    "p.first_name, p.last_name, p.email FROM linksaktiv_referral r "
    "JOIN person p ON p.id = r.person_id"
)
_REFERRALS = _SELECT + " WHERE r.org_id = {}"


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


_OPEN = (
    "SELECT r.id, r.person_id, r.created_at, r.routed_at, p.first_name, p.last_name, p.email, "
    "p.postal_code, p.city, h.name AS home_name, a.help, a.source, "
    "(SELECT ph.e164 FROM person_phone ph WHERE ph.person_id = p.id AND ph.valid "
    "ORDER BY ph.position LIMIT 1) AS phone "
    "FROM linksaktiv_referral r JOIN person p ON p.id = r.person_id "
    "JOIN org_unit h ON h.id = p.home_org_id "
    "LEFT JOIN linksaktiv_activist a ON a.person_id = r.person_id "
    "WHERE r.org_id = {} AND r.status = 'new'"
)


async def inbox_open(
    request: Any, actor: Actor, org_id: int, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The referrals waiting at the unit, oldest first: the person, how to reach them, where
    they live (postal code, home unit), what they offered (ways to help, topics) and, for one
    passed on or escalated from below, that step with its note. Audited as
    ``linksaktiv.referrals_listed`` with the people shown.

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    page = await page_by_id(_OPEN, [org_id], "r.id", limit, cursor)
    people = [row["person_id"] for row in page.items]
    ids = [row["id"] for row in page.items]
    topics: dict[int, list[str]] = {}
    came: dict[int, dict[str, Any]] = {}
    if people:
        marks = ", ".join(["{}"] * len(people))
        for row in await db.fetch(
            "SELECT i.person_id, t.title FROM linksaktiv_interest i "
            f"JOIN linksaktiv_topic t ON t.id = i.topic_id WHERE i.person_id IN ({marks}) "
            "ORDER BY t.title",
            *people,
        ):
            topics.setdefault(row["person_id"], []).append(row["title"])
        marks = ", ".join(["{}"] * len(ids))
        for row in await db.fetch(
            "SELECT s.referral_id, s.action, s.note, s.created_at, o.name AS from_name "
            "FROM linksaktiv_referral_step s JOIN org_unit o ON o.id = s.org_id "
            f"WHERE s.to_org_id = {{}} AND s.referral_id IN ({marks}) ORDER BY s.id",
            org_id,
            *ids,
        ):
            came[row["referral_id"]] = row
    for row in page.items:
        row["help"] = db.json_value(row["help"]) or []
        row["topics"] = topics.get(row["person_id"], [])
        row["came"] = came.get(row["id"])
    record_list(request, "linksaktiv.referrals_listed", actor, org_id, people, {"status": "new"})
    return page


async def inbox_history(
    request: Any, actor: Actor, org_id: int, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """What the unit did with its referrals (and what the escalation did with them), newest
    first: the person, the step, its note, who and when, where it went. Audited as
    ``linksaktiv.referrals_listed`` with the people shown.

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    sql = (
        "SELECT s.id, s.referral_id, s.action, s.note, s.created_at, o.name AS to_name, "
        "u.display_name AS by_name, r.person_id, r.status, p.first_name, p.last_name "
        "FROM linksaktiv_referral_step s JOIN linksaktiv_referral r ON r.id = s.referral_id "
        "JOIN person p ON p.id = r.person_id LEFT JOIN org_unit o ON o.id = s.to_org_id "
        "LEFT JOIN orga_user u ON u.id = s.user_id WHERE s.org_id = {}"
    )
    page = await page_by_id(sql, [org_id], "s.id", limit, cursor, descending=True)
    people = sorted({row["person_id"] for row in page.items})
    record_list(
        request, "linksaktiv.referrals_listed", actor, org_id, people, {"status": "history"}
    )
    return page
