"""The GDPR hooks' work: export, erase and merge a person's recipient rows."""

from __future__ import annotations

from typing import Any

from core.api import db

__all__ = ["erase_person", "export_person", "merge_people"]


async def export_person(person_id: int) -> dict[str, Any] | None:
    """Every mailing the person was a recipient of (GDPR Art. 15/20)."""
    rows = await db.fetch(
        "SELECT r.mailing_id, m.subject, r.email, r.state, r.sent_at, r.opened_at, "
        "r.clicked_at, r.unsubscribed_at, r.unsubscribe_scope FROM mailings_recipient r "
        "JOIN mailings_mailing m ON m.id = r.mailing_id WHERE r.person_id = {} ORDER BY r.id",
        person_id,
    )
    return {"recipients": rows} if rows else None


async def erase_person(person_id: int) -> None:
    """Keep the rows for the mailing statistics but drop the link to the person and address."""
    await db.execute(
        "UPDATE mailings_recipient SET person_id = NULL, email = NULL, "
        "state = CASE WHEN state IN ('queued', 'held') THEN 'skipped' ELSE state END "
        "WHERE person_id = {}",
        person_id,
    )


async def merge_people(kept_id: int, merged_id: int) -> None:
    """Move rows to ``kept_id``; where both got the same mailing, the kept one's row stays."""
    await db.execute(
        "DELETE FROM mailings_recipient WHERE person_id = {} AND mailing_id IN "
        "(SELECT mailing_id FROM mailings_recipient WHERE person_id = {})",
        merged_id,
        kept_id,
    )
    await db.execute(
        "UPDATE mailings_recipient SET person_id = {} WHERE person_id = {}", kept_id, merged_id
    )
