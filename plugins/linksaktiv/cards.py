"""linksaktiv's cards on a unit's start page: the activists of the unit and below (for holders
of ``linksaktiv.view``) and the referrals waiting for the unit (``linksaktiv.referrals``).

Counting the activists of a state reads every activist row of its subtree, so each process
keeps the figures for up to 30 seconds (``core.api.cached``, as core's counts on the start
page); the waiting referrals are one indexed count of the unit's own rows.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal

from core import Card
from core.api import Actor, cached, db, gettext, scope

__all__ = ["activist_counts", "cards", "waiting_referrals"]


async def activist_counts(org_path: str) -> dict[str, int]:
    """Confirmed and pending activists whose home unit lies in the subtree at ``org_path``
    (cached per process for up to 30 seconds)."""
    return await cached("linksaktiv.start_page", (), org_path, lambda: _activists(org_path))


async def _activists(org_path: str) -> dict[str, int]:
    condition, args = await scope(org_path)
    rows = await db.fetch(
        "SELECT a.status, COUNT(*) AS n FROM linksaktiv_activist a "
        f"JOIN person p ON p.id = a.person_id WHERE {condition} "
        "AND a.status IN ('confirmed', 'pending') GROUP BY a.status",
        *args,
    )
    counts = {"confirmed": 0, "pending": 0}
    counts.update({row["status"]: int(row["n"]) for row in rows})
    return counts


async def waiting_referrals(org_id: int) -> int:
    """Referrals to the unit nobody has contacted yet (status ``new``)."""
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM linksaktiv_referral WHERE org_id = {} AND status = 'new'",
        org_id,
    )
    return int(row["n"]) if row else 0


async def cards(org_id: int, org_path: str, actor: Actor, locale: str) -> list[Card]:
    """The activists card and the waiting referrals card (highlighted while some wait), each
    for the holders of its permission."""
    found = []
    if actor.can("linksaktiv.view", org_path):
        counts: dict[str, Any] = await activist_counts(org_path)
        found.append(
            Card(
                title=gettext("Activists", locale),
                value=counts["confirmed"],
                text=gettext("%(pending)s waiting for their confirmation", locale)
                % {"pending": format_decimal(counts["pending"], locale=locale)},
                order=50,
            )
        )
    if actor.can("linksaktiv.referrals", org_path):
        waiting = await waiting_referrals(org_id)
        found.append(
            Card(
                title=gettext("Referred volunteers", locale),
                value=waiting,
                text=gettext("waiting to be contacted", locale),
                attention=waiting > 0,
                order=35,
            )
        )
    return found
