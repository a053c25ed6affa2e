"""Consent: an append-only history per person, channel and purpose (proof under Art. 7(1)).

The current consent of a channel and purpose is its latest event. ``do_not_contact`` on the
person blocks every channel regardless of consent; :func:`contactable_sql` is the one place
that turns both into SQL, so an opt-out is honoured everywhere from the moment it is stored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from core import db
from core.etags import touch
from core.people.schemas import ConsentIn, ConsentOut
from core.people.tables import ConsentEvent, Person

__all__ = [
    "consent_history",
    "contactable_sql",
    "current_consents",
    "not_opted_out_sql",
    "record_consent",
    "withdrawn_sql",
]


async def record_consent(
    person_id: int, entry: ConsentIn, default_source: str | None = None, *, pending: bool = False
) -> None:
    """Append one consent event (never updates or deletes earlier ones); a new version of the
    person.

    ``pending``: the consent came through a public form whose sender has not confirmed the
    channel yet; it is stored as ``pending`` and counts as no decision at all until then.
    """
    await ConsentEvent.insert(
        ConsentEvent(
            person=person_id,
            channel=entry.channel,
            purpose=entry.purpose,
            status="pending" if pending else entry.status,
            source=entry.source or default_source or "api",
            reference=entry.reference,
            wording=entry.wording,
        )
    ).run()
    await touch(Person, [person_id])


async def current_consents(person_ids: list[int]) -> dict[int, list[ConsentOut]]:
    """The latest decision per channel and purpose of each person (``pending`` only where
    nothing was decided yet)."""
    if not person_ids:
        return {}
    marks = ", ".join(["{}"] * len(person_ids))
    rows = await db.fetch(
        "SELECT person_id, channel, purpose, status, source, at FROM consent_event "
        f"WHERE person_id IN ({marks}) ORDER BY person_id, id",
        *person_ids,
    )
    latest: dict[int, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        decided = latest[row["person_id"]].get((row["channel"], row["purpose"]))
        if row["status"] != "pending" or decided is None or decided["status"] == "pending":
            latest[row["person_id"]][(row["channel"], row["purpose"])] = row
    return {
        pid: [
            ConsentOut(
                channel=r["channel"],
                purpose=r["purpose"],
                status=r["status"],
                source=r["source"],
                at=r["at"],
            )
            for r in by_key.values()
        ]
        for pid, by_key in latest.items()
    }


def contactable_sql(channel: str, alias: str = "p", purpose: str = "general") -> str:
    """SQL condition: the person may be contacted on ``channel`` (no parameters needed).

    True when the person is not do-not-contact and the latest consent decision for the
    channel and purpose is ``granted`` (unconfirmed ``pending`` events are no decision).
    """
    return (
        f"(NOT {alias}.do_not_contact AND (SELECT ce.status FROM consent_event ce "
        f"WHERE ce.person_id = {alias}.id AND ce.channel = '{channel}' "
        f"AND ce.purpose = '{purpose}' AND ce.status <> 'pending' "
        "ORDER BY ce.id DESC LIMIT 1) = 'granted')"
    )


def withdrawn_sql(channel: str, alias: str = "p", purpose: str = "general") -> str:
    """SQL condition: the latest consent decision for ``channel`` and ``purpose`` is a
    withdrawal (no decision at all is not one)."""
    return (
        "(COALESCE((SELECT ce.status FROM consent_event ce "
        f"WHERE ce.person_id = {alias}.id AND ce.channel = '{channel}' "
        f"AND ce.purpose = '{purpose}' AND ce.status <> 'pending' "
        "ORDER BY ce.id DESC LIMIT 1), 'none') = 'withdrawn')"
    )


def not_opted_out_sql(channel: str, alias: str = "p", purpose: str = "general") -> str:
    """SQL condition: the person is not do-not-contact and has not withdrawn ``channel``.

    For contact that rests on membership rather than opt-in (calling members): no consent
    event at all is fine, only a withdrawal (the latest event) or do-not-contact blocks.
    """
    return f"(NOT {alias}.do_not_contact AND NOT {withdrawn_sql(channel, alias, purpose)})"


async def consent_history(person_id: int) -> list[dict[str, Any]]:
    """Every consent event of the person, newest first, with the wording shown at the time
    (the proof under Art. 7(1))."""
    return await db.fetch(
        "SELECT channel, purpose, status, source, reference, wording, at FROM consent_event "
        "WHERE person_id = {} ORDER BY id DESC",
        person_id,
    )
