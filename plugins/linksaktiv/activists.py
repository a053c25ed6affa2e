"""The activists of a region: the list organizers read, audited page by page."""

from __future__ import annotations

from typing import Any

from core.api import Actor, Page, db, record_list, scope
from plugins.linksaktiv.lists import page_by_id
from plugins.linksaktiv.schemas import ActivistOut

__all__ = ["read_activists"]


async def _topics_of(person_ids: list[int]) -> dict[int, list[str]]:
    """Topic slugs per person, in slug order."""
    ids = person_ids or [0]
    marks = ", ".join(["{}"] * len(ids))
    topics: dict[int, list[str]] = {}
    for r in await db.fetch(
        "SELECT i.person_id, t.slug FROM linksaktiv_interest i JOIN linksaktiv_topic t "
        f"ON t.id = i.topic_id WHERE i.person_id IN ({marks}) ORDER BY t.slug",
        *ids,
    ):
        topics.setdefault(r["person_id"], []).append(r["slug"])
    return topics


async def read_activists(
    request: Any,
    actor: Actor,
    org_id: int,
    org_path: str,
    status: str | None,
    topic: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ActivistOut]:
    """A keyset page (by person id) of the activists whose home unit is in the subtree of unit
    ``org_id`` (at ``org_path``), ``status`` and ``topic`` (a slug) narrowing it; audited as
    ``linksaktiv.activists_listed`` with the filter and the people shown (written after the
    answer).

    Raises:
        Problem: 422 naming ``cursor`` for one that is not of this list.
    """
    condition, scoped = await scope(org_path)
    args: list[Any] = list(scoped)
    sql = (
        "SELECT p.id, p.first_name, p.last_name, p.postal_code, p.home_org_id, a.status, "
        "a.source, a.help, a.created_at FROM linksaktiv_activist a "
        f"JOIN person p ON p.id = a.person_id WHERE {condition}"
    )
    if status:
        sql += " AND a.status = {}"
        args.append(status)
    if topic:
        sql += (
            " AND p.id IN (SELECT i.person_id FROM linksaktiv_interest i JOIN linksaktiv_topic t"
            " ON t.id = i.topic_id WHERE t.slug = {})"
        )
        args.append(topic)
    page = await page_by_id(sql, args, "p.id", limit, cursor)
    people = [r["id"] for r in page.items]
    topics = await _topics_of(people)
    filters = {"status": status, "topic": topic}
    record_list(request, "linksaktiv.activists_listed", actor, org_id, people, filters)
    items = [
        ActivistOut(
            person_id=r["id"],
            first_name=r["first_name"],
            last_name=r["last_name"],
            postal_code=r["postal_code"],
            home_org_id=r["home_org_id"],
            status=r["status"],
            source=r["source"],
            help=db.json_value(r["help"]) or [],
            topics=topics.get(r["id"], []),
            created_at=r["created_at"],
        )
        for r in page.items
    ]
    return Page(items, page.next_cursor)
