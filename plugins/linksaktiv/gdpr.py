"""Data protection hooks: export, erase, merge and the person summary."""

from __future__ import annotations

from typing import Any

from core.api import db

__all__ = ["erase", "export", "merge", "summary"]

_PERSON_TABLES = (
    "linksaktiv_interest",
    "linksaktiv_call_done",
    "linksaktiv_digest_item",
    "linksaktiv_order",
    "linksaktiv_referral",
    "linksaktiv_activist",
)


async def export(person_id: int) -> dict[str, Any] | None:
    """Everything the module stores about the person, or ``None``."""
    activist = await db.fetch(
        "SELECT status, source, source_org_id, help, consent_wording, confirmed_at, created_at "
        "FROM linksaktiv_activist WHERE person_id = {}",
        person_id,
    )
    topics = await db.fetch(
        "SELECT t.slug, t.title FROM linksaktiv_interest i "
        "JOIN linksaktiv_topic t ON t.id = i.topic_id WHERE i.person_id = {} ORDER BY t.slug",
        person_id,
    )
    calls = await db.fetch(
        "SELECT d.call_id, c.title, d.done_at FROM linksaktiv_call_done d "
        "JOIN linksaktiv_call c ON c.id = d.call_id WHERE d.person_id = {} ORDER BY d.done_at",
        person_id,
    )
    orders = await db.fetch(
        "SELECT id, edition_id, quantity, delivery, pickup_org_id, status, distributed, "
        "distributed_postal_code, created_at FROM linksaktiv_order WHERE person_id = {} "
        "ORDER BY id",
        person_id,
    )
    referrals = await db.fetch(
        "SELECT org_id, status, created_at FROM linksaktiv_referral WHERE person_id = {}",
        person_id,
    )
    digests = await db.fetch(
        "SELECT call_id, week, mailed_at FROM linksaktiv_digest_item WHERE person_id = {} "
        "ORDER BY id",
        person_id,
    )
    steps = await db.fetch(  # the leadership's answers with their notes (erased by cascade)
        "SELECT s.org_id, s.to_org_id, s.action, s.note, s.created_at "
        "FROM linksaktiv_referral_step s JOIN linksaktiv_referral r ON r.id = s.referral_id "
        "WHERE r.person_id = {} ORDER BY s.id",
        person_id,
    )
    if not (activist or topics or calls or orders or referrals or digests):
        return None
    for row in activist:
        row["help"] = db.json_value(row["help"])
    return {
        "activist": activist,
        "topics": topics,
        "calls_done": calls,
        "orders": orders,
        "referrals": referrals,
        "digests": digests,
        "referral_steps": steps,
    }


async def erase(person_id: int) -> None:
    """Delete the person's rows (orders included: they hold the shipping address's owner)."""
    for table in _PERSON_TABLES:
        await db.execute(f"DELETE FROM {table} WHERE person_id = {{}}", person_id)


async def merge(kept_id: int, merged_id: int) -> None:
    """Move rows to ``kept_id``; rows the kept person already has are dropped."""
    await db.execute(
        "DELETE FROM linksaktiv_interest WHERE person_id = {} AND topic_id IN "
        "(SELECT topic_id FROM linksaktiv_interest WHERE person_id = {})",
        merged_id,
        kept_id,
    )
    await db.execute(
        "DELETE FROM linksaktiv_call_done WHERE person_id = {} AND call_id IN "
        "(SELECT call_id FROM linksaktiv_call_done WHERE person_id = {})",
        merged_id,
        kept_id,
    )
    await db.execute(
        "DELETE FROM linksaktiv_digest_item WHERE person_id = {} AND call_id IN "
        "(SELECT call_id FROM linksaktiv_digest_item WHERE person_id = {})",
        merged_id,
        kept_id,
    )
    kept = await db.fetch_one("SELECT id FROM linksaktiv_activist WHERE person_id = {}", kept_id)
    if kept is not None:
        await db.execute("DELETE FROM linksaktiv_activist WHERE person_id = {}", merged_id)
    for table in _PERSON_TABLES:
        await db.execute(
            f"UPDATE {table} SET person_id = {{}} WHERE person_id = {{}}",
            kept_id,
            merged_id,
        )


async def summary(person_id: int) -> dict[str, Any] | None:
    """Status (with when they confirmed), source, topics, ways to help, the calls to action
    they did and their newspaper orders, or ``None`` when not an activist."""
    row = await db.fetch_one(
        "SELECT status, source, help, confirmed_at, last_active_at FROM linksaktiv_activist "
        "WHERE person_id = {}",
        person_id,
    )
    if row is None:
        return None
    topics = await db.fetch(
        "SELECT t.slug FROM linksaktiv_interest i JOIN linksaktiv_topic t ON t.id = i.topic_id "
        "WHERE i.person_id = {} ORDER BY t.slug",
        person_id,
    )
    orders = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM linksaktiv_order WHERE person_id = {}", person_id
    )
    calls = await db.fetch(
        "SELECT c.title, d.done_at FROM linksaktiv_call_done d JOIN linksaktiv_call c "
        "ON c.id = d.call_id WHERE d.person_id = {} ORDER BY d.done_at DESC LIMIT 10",
        person_id,
    )
    return {
        "status": row["status"],
        "source": row["source"],
        "help": db.json_value(row["help"]) or [],
        "confirmed_at": row["confirmed_at"],
        "last_active_at": row["last_active_at"],
        "topics": [t["slug"] for t in topics],
        "calls_done": calls,
        "orders": orders["n"] if orders else 0,
    }
