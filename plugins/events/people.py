"""The events module's part in people's records: export, erasure, merge, summary, mail context."""

from __future__ import annotations

from typing import Any

from core.api import ancestors_sql, db, subtree_sql, utcnow
from plugins.events.links import event_url

__all__ = ["erase_person", "export_person", "merge_people", "summary", "upcoming_near"]

_RANK = "CASE status WHEN 'booked' THEN 4 WHEN 'signed_up' THEN 3 WHEN 'waiting' THEN 2 ELSE 1 END"


async def export_person(person_id: int) -> dict[str, Any] | None:
    """Everything the module stores about the person (GDPR Art. 15/20)."""
    participations = await db.fetch(
        "SELECT pa.id, pa.event_id, pa.shift_id, e.title, e.start_at, pa.status, pa.attendance, "
        "pa.source, pa.confirmed_at, pa.cancelled_at, pa.created_at FROM events_participation pa "
        "JOIN events_event e ON e.id = pa.event_id WHERE pa.person_id = {} ORDER BY pa.id",
        person_id,
    )
    contact_for = await db.fetch(
        "SELECT id, title, start_at FROM events_event WHERE contact_person_id = {} ORDER BY id",
        person_id,
    )
    if not participations and not contact_for:
        return None
    return {"participations": participations, "contact_person_of": contact_for}


async def erase_person(person_id: int) -> None:
    """Delete the participations; events keep going without the contact person."""
    await db.execute("DELETE FROM events_participation WHERE person_id = {}", person_id)
    await db.execute(
        "UPDATE events_event SET contact_person_id = NULL WHERE contact_person_id = {}",
        person_id,
    )


async def merge_people(kept_id: int, merged_id: int) -> None:
    """Move the merged person's participations; where both had one (for the same event, or
    the same shift of it), keep the stronger status (booked > signed up > waiting >
    cancelled) and any recorded attendance."""
    both = await db.fetch(
        f"SELECT m.id AS merged_pa, k.id AS kept_pa, {_RANK.replace('status', 'm.status')} "
        f"AS m_rank, {_RANK.replace('status', 'k.status')} AS k_rank, "
        "m.status AS m_status, m.attendance AS m_att, k.attendance AS k_att "
        "FROM events_participation m JOIN events_participation k "
        "ON k.event_id = m.event_id AND COALESCE(k.shift_id, 0) = COALESCE(m.shift_id, 0) "
        "AND k.person_id = {} WHERE m.person_id = {}",
        kept_id,
        merged_id,
    )
    for row in both:
        if row["m_rank"] > row["k_rank"]:
            await db.execute(
                "UPDATE events_participation SET status = {}, updated_at = {} WHERE id = {}",
                row["m_status"],
                utcnow(),
                row["kept_pa"],
            )
        if row["k_att"] is None and row["m_att"] is not None:
            await db.execute(
                "UPDATE events_participation SET attendance = {} WHERE id = {}",
                row["m_att"],
                row["kept_pa"],
            )
        await db.execute("DELETE FROM events_participation WHERE id = {}", row["merged_pa"])
    await db.execute(
        "UPDATE events_participation SET person_id = {} WHERE person_id = {}", kept_id, merged_id
    )
    await db.execute(
        "UPDATE events_event SET contact_person_id = {} WHERE contact_person_id = {}",
        kept_id,
        merged_id,
    )


async def _org_path(org_id: int) -> str | None:
    row = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", org_id)
    return row["path"] if row else None


async def summary(person_id: int, org_id: int) -> dict[str, Any] | None:
    """The next five and the last five events of the person within the unit's subtree."""
    path = await _org_path(org_id)
    if path is None:
        return None
    within, args = subtree_sql("o.path", path)
    base = (
        "SELECT e.id, e.title, e.type, e.start_at, pa.status, pa.attendance "
        "FROM events_participation pa JOIN events_event e ON e.id = pa.event_id "
        f"JOIN org_unit o ON o.id = e.org_id WHERE pa.person_id = {{}} AND {within} "
    )
    now = utcnow()
    upcoming = await db.fetch(
        base + "AND e.end_at > {} ORDER BY e.start_at LIMIT 5", person_id, *args, now
    )
    past = await db.fetch(
        base + "AND e.end_at <= {} ORDER BY e.start_at DESC LIMIT 5", person_id, *args, now
    )
    if not upcoming and not past:
        return None
    return {"upcoming": upcoming, "past": past}


async def upcoming_near(person_id: int, org_id: int) -> dict[str, Any] | None:
    """``upcoming_events``: up to five public, published upcoming events of the person's home
    unit, of the units above it (within the mailing's unit) or of the units below it."""
    row = await db.fetch_one(
        "SELECT h.path AS home, m.path AS unit FROM person p JOIN org_unit h "
        "ON h.id = p.home_org_id, org_unit m WHERE p.id = {} AND m.id = {}",
        person_id,
        org_id,
    )
    if row is None:
        return None
    home, unit = row["home"], row["unit"]
    above_home, above_args = ancestors_sql("o.path", home)
    in_unit, unit_args = subtree_sql("o.path", unit)
    below_home, below_args = subtree_sql("o.path", home)
    rows = await db.fetch(
        "SELECT e.id, e.org_id, e.title, e.start_at, e.end_at, e.timezone, e.location "
        "FROM events_event e JOIN org_unit o ON o.id = e.org_id "
        "WHERE e.visibility = 'public' AND e.state = 'published' AND e.start_at > {} "
        f"AND (({above_home} AND {in_unit}) OR {below_home}) ORDER BY e.start_at LIMIT 5",
        utcnow(),
        *above_args,
        *unit_args,
        *below_args,
    )
    events = [
        {
            "title": r["title"],
            "start_at": r["start_at"],
            "location": (db.json_value(r["location"]) or {}).get("name", ""),
            "url": event_url(r["org_id"], r["id"]),
        }
        for r in rows
    ]
    return {"upcoming_events": events}
