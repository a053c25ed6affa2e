"""Services behind the mailing console pages and their JSON routes: the unit's mailings by
state, the recipients to preview for, a preview of text not saved yet, the statistics over
time, the public web version and the unit's suppression list (issue #26, items 8 to 11).

The pages (:mod:`plugins.mailings.mailing_pages`) and the routes (:mod:`plugins.mailings.routes`)
call these; what changes data writes its own audit row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.api import (
    BadToken,
    Page,
    TemplateProblem,
    check_limit,
    compile_segment,
    db,
    decode_cursor,
    invalid,
    keyset_page,
    not_found,
    page_of,
    record,
    render_off_loop,
    scope,
    unsign,
)
from plugins.mailings.audience import audience_segment, deliverable_sql
from plugins.mailings.render import WEB_PURPOSE
from plugins.mailings.services import config, renderer_for
from plugins.mailings.tables import Mailing

__all__ = [
    "STATES",
    "list_mailings",
    "recipient_choices",
    "remove_suppression",
    "suppressions",
    "timeline",
    "user_email",
    "web_version",
]

STATES = ("draft", "scheduled", "sending", "paused", "sent", "cancelled")
"""A mailing's states, in the order of its life (the list's filter)."""
CHOICES = 20  # recipients offered for the preview


async def list_mailings(
    org_id: int, state: str | None, q: str | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The unit's mailings, newest first (keyset pages), of one ``state`` and with ``q`` in
    the subject when given.

    Raises:
        Problem: 422 on ``state`` for a state that does not exist.
    """
    query = Mailing.select().where(Mailing.org == org_id)
    if state:
        if state not in STATES:
            raise invalid("state", f"one of {', '.join(STATES)}")
        query = query.where(Mailing.state == state)
    if q and q.strip():
        needle = q.strip().replace("\\", "").replace("%", "").replace("_", "")
        query = query.where(Mailing.subject.ilike(f"%{needle}%"))
    return await keyset_page(query, Mailing.id, limit, cursor, newest_first=True)


async def recipient_choices(mailing: dict[str, Any], org_path: str) -> list[dict[str, Any]]:
    """The first people (by id) the audience reaches now, to preview the mailing for; none
    while the mailing has no audience."""
    audience = db.json_value(mailing["audience"])
    if not audience:
        return []
    where, args = await compile_segment(audience_segment(audience), org_path, "audience")
    return await db.fetch(
        "SELECT p.id, p.first_name, p.last_name, p.email FROM person p "
        f"WHERE {where} AND {deliverable_sql(mailing['org_id'])} ORDER BY p.id LIMIT {CHOICES}",
        *args,
    )


def _hour(column: str) -> str:
    """The UTC hour of a timestamp column as text ``YYYY-MM-DD HH``."""
    if db.is_postgres():
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
    return f"substr({column}, 1, 13)"


def _parse_hour(text: str) -> datetime:
    return datetime.fromisoformat(f"{text[:10]}T{text[11:13]}:00:00+00:00")


async def timeline(mailing_id: int, max_points: int = 72) -> list[dict[str, Any]]:
    """Delivered, bounced and unsubscribed (opened and clicked when tracking is on) per hour
    since the first mail, or per day when that makes more than ``max_points`` rows; each row
    ``{"at", "delivered", "bounced", "unsubscribed", "opened", "clicked"}``."""
    events = [("sent_at", "CASE WHEN state = 'sent' THEN 1 ELSE 0 END", "delivered")]
    events.append(("sent_at", "CASE WHEN state = 'bounced' THEN 1 ELSE 0 END", "bounced"))
    events.append(("unsubscribed_at", "1", "unsubscribed"))
    tracking = config().tracking
    if tracking:
        events += [("opened_at", "1", "opened"), ("clicked_at", "1", "clicked")]
    counts: dict[datetime, dict[str, Any]] = {}
    for column, value, name in events:
        hour = _hour(column)
        rows = await db.fetch(
            f"SELECT {hour} AS h, SUM({value}) AS n FROM mailings_recipient "
            f"WHERE mailing_id = {{}} AND {column} IS NOT NULL GROUP BY {hour}",
            mailing_id,
        )
        for row in rows:
            at = _parse_hour(row["h"])
            point = counts.setdefault(at, _point(at, tracking))
            point[name] += int(row["n"] or 0)
    points = [counts[at] for at in sorted(counts)]
    if len(points) <= max_points or not points:
        return _filled(points, timedelta(hours=1), tracking)
    days: dict[datetime, dict[str, Any]] = {}
    for point in points:
        day = point["at"].replace(hour=0)
        merged = days.setdefault(day, _point(day, tracking))
        for key, value in point.items():
            if key != "at" and value is not None:
                merged[key] += value
    return _filled([days[d] for d in sorted(days)], timedelta(days=1), tracking)


def _point(at: datetime, tracking: bool) -> dict[str, Any]:
    empty = 0 if tracking else None
    return {
        "at": at,
        "delivered": 0,
        "bounced": 0,
        "unsubscribed": 0,
        "opened": empty,
        "clicked": empty,
    }


def _filled(points: list[dict[str, Any]], step: timedelta, tracking: bool) -> list[dict[str, Any]]:
    """The points with the empty hours (days) between them, so the chart's axis is time."""
    if not points:
        return []
    filled, at = [], points[0]["at"]
    given = {p["at"]: p for p in points}
    while at <= points[-1]["at"]:
        filled.append(given.get(at) or _point(at, tracking))
        at += step
    return filled


async def web_version(token: str) -> dict[str, Any] | None:
    """The mailing a web-version link names, rendered for nobody in particular (no personal
    data): ``subject``, ``html``, ``sender_name``, ``org_name``, ``started_at``, ``cta_url``,
    ``cta_label``; ``None`` for a bad link, a mailing never sent or a body that needs a
    recipient's data."""
    try:
        mailing_id = unsign(WEB_PURPOSE, token)
    except BadToken:
        return None
    if not isinstance(mailing_id, int):
        return None
    row = await Mailing.select().where(Mailing.id == mailing_id).first().run()
    if row is None or row["started_at"] is None:
        return None
    renderer = await renderer_for(row)
    try:
        subject, html, _markdown = await render_off_loop(renderer.web)
    except TemplateProblem:
        return None
    return {
        "subject": subject,
        "html": html,
        "sender_name": row["sender_name"],
        "org_name": renderer.org["name"],
        "started_at": row["started_at"],
        "cta_url": row["cta_url"],
        "cta_label": row["cta_label"],
    }


async def user_email(user_id: int) -> str:
    """The e-mail address of a console user (where their test mails go)."""
    row = await db.fetch_one("SELECT email FROM orga_user WHERE id = {}", user_id)
    return row["email"] if row else ""


async def _suppressed_sql(org_path: str) -> tuple[str, list[Any]]:
    """The suppression rows of addresses that a person of the unit's subtree has."""
    condition, args = await scope(org_path)
    return f"EXISTS (SELECT 1 FROM person p WHERE p.email = s.email AND {condition})", args


async def suppressions(
    org_path: str, q: str | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """Addresses on the deployment's suppression list (refused for good) that people of the
    unit's subtree have, newest first, with ``q`` in the address when given."""
    limit = check_limit(limit)
    where, args = await _suppressed_sql(org_path)
    key = decode_cursor(cursor)
    if key is not None:
        where += " AND s.id < {}"
        args.append(int(key[0]))
    if q and q.strip():
        where += " AND s.email LIKE {}"
        args.append("%" + q.strip().lower().replace("%", "").replace("_", "") + "%")
    rows = await db.fetch(
        "SELECT s.id, s.email, s.reason, s.created_at FROM mail_suppression s "
        f"WHERE {where} ORDER BY s.id DESC LIMIT {int(limit) + 1}",
        *args,
    )
    return page_of(rows, limit, key=lambda r: [r["id"]])


async def remove_suppression(org_id: int, org_path: str, suppression_id: int) -> None:
    """Take an address off the suppression list (bulk mail reaches it again), if a person of
    the unit's subtree has it; audited (``mailings.suppression_removed``, the address in the
    detail).

    Raises:
        Problem: 404 for an entry the unit does not see.
    """
    where, args = await _suppressed_sql(org_path)
    row = await db.fetch_one(
        f"SELECT s.id, s.email FROM mail_suppression s WHERE s.id = {{}} AND {where}",
        suppression_id,
        *args,
    )
    if row is None:
        raise not_found("suppression")
    await db.execute("DELETE FROM mail_suppression WHERE id = {}", row["id"])
    await record(
        "mailings.suppression_removed",
        org_id=org_id,
        object_type="mail_suppression",
        object_id=row["id"],
        detail={"email": row["email"]},
    )
