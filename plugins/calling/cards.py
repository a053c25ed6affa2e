"""The calling module's cards on a unit's start page: open follow-ups and the assignments in
progress with how far they got.

Both are for the holders of ``calling.manage``. The figures count a subtree's follow-ups and
every target of an assignment (hundreds of thousands at the top of a party), so each process
keeps them for up to 30 seconds (``core.api.cached``, as core's own counts on the start page).
"""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal, format_percent

from core import Card
from core.api import Actor, cached, db, gettext, scope, utcnow
from plugins.calling.sql import in_list

__all__ = ["cards", "start_page_figures"]

MANAGE = "calling.manage"
SHOWN_ASSIGNMENTS = 5  # the newest open assignments get a card each


async def start_page_figures(org_id: int, org_path: str) -> dict[str, Any]:
    """Open follow-ups of the people of the subtree by kind (``organizer_action``,
    ``local_contact``), and the unit's open assignments (newest first, at most
    :data:`SHOWN_ASSIGNMENTS`) with their ``targets`` and how many are ``done`` (no longer
    waiting in the queue). Cached per process for up to 30 seconds."""
    return await cached(
        "calling.start_page", (), (org_id, org_path), lambda: _figures(org_id, org_path)
    )


async def _figures(org_id: int, org_path: str) -> dict[str, Any]:
    condition, args = await scope(org_path)
    kinds = await db.fetch(
        "SELECT f.kind, COUNT(*) AS n FROM calling_followup f JOIN person p ON p.id = f.person_id "
        f"WHERE f.status = 'open' AND {condition} GROUP BY f.kind",
        *args,
    )
    now = utcnow()
    assignments = await db.fetch(
        "SELECT id, title FROM calling_assignment WHERE org_id = {} AND start_at <= {} "
        "AND (end_at IS NULL OR end_at > {}) ORDER BY id DESC LIMIT {}",
        org_id,
        now,
        now,
        SHOWN_ASSIGNMENTS,
    )
    ids = [row["id"] for row in assignments]
    progress: dict[int, dict[str, Any]] = {}
    if ids:
        rows = await db.fetch(
            "SELECT assignment_id, COUNT(*) AS targets, "
            "SUM(CASE WHEN state = 'open' THEN 0 ELSE 1 END) AS done FROM calling_target "
            f"WHERE assignment_id IN ({in_list(ids)}) AND state <> 'removed' "
            "GROUP BY assignment_id",
            *ids,
        )
        progress = {row["assignment_id"]: row for row in rows}
    return {
        "followups": {row["kind"]: int(row["n"]) for row in kinds},
        "assignments": [
            {
                "id": row["id"],
                "title": row["title"],
                "targets": int(progress.get(row["id"], {}).get("targets") or 0),
                "done": int(progress.get(row["id"], {}).get("done") or 0),
            }
            for row in assignments
        ],
    }


def _n(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


async def cards(org_id: int, org_path: str, actor: Actor, locale: str) -> list[Card]:
    """The follow-ups card (highlighted while some are open) and one card per assignment in
    progress, for holders of ``calling.manage`` only."""
    if not actor.can(MANAGE, org_path):
        return []
    figures = await start_page_figures(org_id, org_path)
    action = figures["followups"].get("organizer_action", 0)
    contact = figures["followups"].get("local_contact", 0)
    found = [
        Card(
            title=gettext("Open follow-ups", locale),
            value=action + contact,
            text=gettext(
                "%(action)s need an organizer, %(contact)s want contact with the local group",
                locale,
            )
            % {"action": _n(action, locale), "contact": _n(contact, locale)},
            attention=action + contact > 0,
            order=30,
        )
    ]
    for number, assignment in enumerate(figures["assignments"]):
        targets, done = assignment["targets"], assignment["done"]
        share = done / targets if targets else 0.0
        found.append(
            Card(
                title=assignment["title"],
                value=format_percent(share, locale=locale),
                text=gettext("%(done)s of %(targets)s people called", locale)
                % {"done": _n(done, locale), "targets": _n(targets, locale)},
                progress=share,
                order=40 + number,
            )
        )
    return found
