"""The retention rule: contacts without consent and without activity for a while go."""

from __future__ import annotations

from datetime import datetime

from core import db

__all__ = ["purge_candidates"]


async def purge_candidates(inactive_since: datetime) -> list[int]:
    """Ids of contacts (not members, former members or sympathizers) that have no granted
    consent on any channel and were neither changed nor gave or withdrew consent since
    ``inactive_since``."""
    rows = await db.fetch(
        "SELECT p.id FROM person p WHERE p.member_status = 'contact' AND p.updated_at < {} "
        "AND NOT EXISTS (SELECT 1 FROM consent_event c WHERE c.person_id = p.id "
        "AND (c.at >= {} OR c.status = 'granted')) ORDER BY p.id",
        inactive_since,
        inactive_since,
    )
    return [row["id"] for row in rows]
