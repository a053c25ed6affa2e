"""Linksaktiv on the call screen (hook ``call_card_sections``): the person's topics of
interest and whether they distribute the newspaper, changed during the call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core import CallField, CallForm, CallSection
from core.api import db, gettext, record, utcnow
from plugins.linksaktiv.calls import topics
from plugins.linksaktiv.signup import set_topics

__all__ = ["INTERESTS_PATH", "save_interests", "sections"]

INTERESTS_PATH = "call-card/interests"
NEWSPAPERS = "newspapers"


async def _activist(person_id: int) -> dict[str, Any] | None:
    return await db.fetch_one(
        "SELECT id, help FROM linksaktiv_activist WHERE person_id = {}", person_id
    )


async def sections(person_id: int, org_id: int, locale: str) -> list[CallSection]:
    """One section: a checkbox per active topic (ticked when interested) and one for the
    newspaper distribution, saved together."""
    active = await topics()
    mine = {
        r["topic_id"]
        for r in await db.fetch(
            "SELECT topic_id FROM linksaktiv_interest WHERE person_id = {}", person_id
        )
    }
    activist = await _activist(person_id)
    helps = set(db.json_value(activist["help"]) or []) if activist else set()
    fields = [
        CallField(name="topics", label=t["title"], value=t["slug"], checked=t["id"] in mine)
        for t in active
    ]
    fields.append(
        CallField(
            name="newspapers",
            label=gettext("Distributes the newspaper", locale),
            value="1",
            checked=NEWSPAPERS in helps,
        )
    )
    form = CallForm(
        action=f"/app/orgs/{org_id}/linksaktiv/{INTERESTS_PATH}",
        text=gettext("Topics of interest", locale),
        submit=gettext("Save interests", locale),
        fields=fields,
    )
    return [CallSection(title=gettext("Linksaktiv", locale), forms=[form], order=30)]


async def save_interests(org_id: int, person_id: int, slugs: list[str], newspapers: bool) -> None:
    """Replace the person's topics and set whether they distribute the newspaper (an
    activist row from the call when they had none), audited as
    ``linksaktiv.interests_changed`` in the caller's unit ``org_id``.

    Raises:
        Problem: 422 on ``topics`` for an unknown topic.
    """
    now: datetime = utcnow()
    async with db.transaction():
        await set_topics(person_id, slugs)
        activist = await _activist(person_id)
        if activist is not None:
            helps = set(db.json_value(activist["help"]) or [])
            helps = helps | {NEWSPAPERS} if newspapers else helps - {NEWSPAPERS}
            await db.execute(
                "UPDATE linksaktiv_activist SET help = {}, updated_at = {} WHERE id = {}",
                msgspec.json.encode(sorted(helps)).decode(),
                now,
                activist["id"],
            )
        elif newspapers:
            await db.execute(
                "INSERT INTO linksaktiv_activist (person_id, status, source, help, "
                "consent_wording, confirmed_at, created_at, updated_at) "
                "VALUES ({}, 'confirmed', 'call', {}, {}, {}, {}, {})",
                person_id,
                msgspec.json.encode([NEWSPAPERS]).decode(),
                "Offered to distribute the newspaper on the phone to a caller",
                now,
                now,
                now,
            )
        await record(
            "linksaktiv.interests_changed",
            org_id=org_id,
            object_type="person",
            object_id=person_id,
            detail={"topics": sorted(slugs), "newspapers": newspapers},
        )
