"""Topics and calls to action: which calls match an activist, "I did it", mail context."""

from __future__ import annotations

from typing import Any

import msgspec

from core.api import (
    ancestors_sql,
    conflict,
    db,
    invalid,
    not_found,
    person_token,
    record,
    to_row,
    utcnow,
)
from plugins.linksaktiv.config import config
from plugins.linksaktiv.schemas import CallToActionIn
from plugins.linksaktiv.tables import Call

__all__ = [
    "MAX_TOPICS",
    "calls_for",
    "create_call",
    "create_topic",
    "done_counts",
    "ensure_topics",
    "mail_context",
    "mark_done",
    "me_url",
    "topic_ids",
    "topics",
]

ME_PURPOSE = "linksaktiv.me"
#: Topics a deployment can have: they are listed in one answer, and as one form's choices.
MAX_TOPICS = 100


async def ensure_topics() -> None:
    """Fill the topic list from the settings the first time it is needed."""
    if await db.fetch_one("SELECT id FROM linksaktiv_topic LIMIT 1") is not None:
        return
    now = utcnow()
    async with db.transaction():
        for entry in config().topics:
            slug, _, title = entry.partition(":")
            await db.execute(
                "INSERT INTO linksaktiv_topic (slug, title, active, created_at, updated_at) "
                "VALUES ({}, {}, true, {}, {}) ON CONFLICT (slug) DO NOTHING",
                slug.strip(),
                (title or slug).strip(),
                now,
                now,
            )


async def topics(active_only: bool = True) -> list[dict[str, Any]]:
    """The topics of this deployment, by title (seeded from the settings when empty)."""
    sql = "SELECT id, slug, title, active FROM linksaktiv_topic ORDER BY title, id"
    rows = await db.fetch(sql)
    if not rows:
        await ensure_topics()
        rows = await db.fetch(sql)
    return [r for r in rows if r["active"] or not active_only]


async def create_topic(org_id: int, slug: str, title: str) -> dict[str, Any]:
    """Add a topic, audited as ``linksaktiv.topic_created`` in unit ``org_id`` (409 when the
    slug exists, or when the deployment has :data:`MAX_TOPICS`, switched off ones included:
    the list is one answer, and one form on the public pages)."""
    await ensure_topics()
    if await db.fetch_one("SELECT id FROM linksaktiv_topic WHERE slug = {}", slug):
        raise conflict("A topic with this slug exists.", field="slug")
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM linksaktiv_topic")
    if count and int(count["n"]) >= MAX_TOPICS:
        raise conflict(
            f"A deployment has at most {MAX_TOPICS} topics: rename one you no longer use.",
            field="slug",
        )
    now = utcnow()
    rows = await db.fetch(
        "INSERT INTO linksaktiv_topic (slug, title, active, created_at, updated_at) "
        "VALUES ({}, {}, true, {}, {}) RETURNING id, slug, title, active",
        slug,
        title,
        now,
        now,
    )
    await record(
        "linksaktiv.topic_created", org_id=org_id, object_type="topic", object_id=rows[0]["id"]
    )
    return rows[0]


async def update_topic(topic_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Change a topic's columns (``title``, ``active``); returns it (404 when there is none)."""
    if values:
        values["updated_at"] = utcnow()
        columns = ", ".join(f"{k} = {{}}" for k in values)
        await db.execute(
            f"UPDATE linksaktiv_topic SET {columns} WHERE id = {{}}", *values.values(), topic_id
        )
    row = await db.fetch_one(
        "SELECT id, slug, title, active FROM linksaktiv_topic WHERE id = {}", topic_id
    )
    if row is None:
        raise not_found("topic")
    return row


async def create_call(org_id: int, data: CallToActionIn) -> int:
    """A call for the region of unit ``org_id`` (its subtree) and the given topics (none:
    everyone), audited as ``linksaktiv.call_created``; returns its id.

    Raises:
        Problem: 422 naming ``link``, ``event_id``, ``deadline`` or ``topics``.
    """
    if data.kind in ("visit_link", "share_link") and not data.link:
        raise invalid("link", "this kind of call needs a link")
    if data.kind == "event" and data.event_id is None and not data.link:
        raise invalid("event_id", "name the event or link to it")
    if data.deadline is not None and data.deadline < data.starts_at:
        raise invalid("deadline", "the deadline comes before the start")
    ids = await topic_ids(data.topics)
    values = to_row(data)
    values.pop("topics")
    rows = await Call.insert(
        Call(org=org_id, topic_ids=msgspec.json.encode(ids).decode(), **values)
    ).run()
    await record(
        "linksaktiv.call_created", org_id=org_id, object_type="call", object_id=rows[0]["id"]
    )
    return rows[0]["id"]


async def done_counts(call_ids: list[int]) -> dict[int, int]:
    """How many people marked each of these calls done (calls nobody did are left out)."""
    ids = call_ids or [0]
    marks = ", ".join(["{}"] * len(ids))
    rows = await db.fetch(
        "SELECT call_id, COUNT(*) AS n FROM linksaktiv_call_done "
        f"WHERE call_id IN ({marks}) GROUP BY call_id",
        *ids,
    )
    return {r["call_id"]: r["n"] for r in rows}


async def topic_ids(slugs: list[str], field: str = "topics") -> list[int]:
    """Ids of active topics by slug (422 naming ``field`` for an unknown one)."""
    if not slugs:
        return []
    known = {t["slug"]: t["id"] for t in await topics()}
    unknown = [s for s in slugs if s not in known]
    if unknown:
        raise invalid(field, f"unknown topic: {', '.join(unknown)}")
    return sorted({known[s] for s in slugs})


_OPEN_CALLS = (
    "SELECT c.id, c.org_id, c.title, c.text, c.kind, c.link, c.event_id, c.topic_ids, "
    "c.starts_at, c.deadline FROM linksaktiv_call c JOIN org_unit u ON u.id = c.org_id "
    "WHERE {above} AND c.starts_at <= {{}} "
    "AND (c.deadline IS NULL OR c.deadline >= {{}}) ORDER BY c.deadline, c.id"
)


async def calls_for(person_id: int) -> list[dict[str, Any]]:
    """Open calls of the person's home unit and the units above it, matching their topics.

    A call without topics is for everyone in its region. Each call carries ``done``.
    """
    person = await db.fetch_one(
        "SELECT u.path FROM person p JOIN org_unit u ON u.id = p.home_org_id WHERE p.id = {}",
        person_id,
    )
    if person is None:
        return []
    now = utcnow()
    mine = {
        r["topic_id"]
        for r in await db.fetch(
            "SELECT topic_id FROM linksaktiv_interest WHERE person_id = {}", person_id
        )
    }
    done = {
        r["call_id"]
        for r in await db.fetch(
            "SELECT call_id FROM linksaktiv_call_done WHERE person_id = {}", person_id
        )
    }
    result = []
    above, args = ancestors_sql("u.path", person["path"])
    for row in await db.fetch(_OPEN_CALLS.format(above=above), *args, now, now):
        wanted = set(db.json_value(row["topic_ids"]) or [])
        if wanted and not wanted & mine:
            continue
        row["topic_ids"] = sorted(wanted)
        row["done"] = row["id"] in done
        result.append(row)
    return result


async def mark_done(person_id: int, call_id: int) -> bool:
    """Record "I did it" for a call open to the person; False when it is not theirs."""
    if not any(c["id"] == call_id for c in await calls_for(person_id)):
        return False
    await db.execute(
        "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {}) "
        "ON CONFLICT (call_id, person_id) DO NOTHING",
        call_id,
        person_id,
        utcnow(),
    )
    return True


async def me_url(person_id: int) -> str:
    """A fresh magic link to the person's page (expires after ``link_days``; void once the
    person is erased or changes their e-mail address)."""
    from core.api import current_runtime

    base = current_runtime().settings.public_url.rstrip("/")
    return f"{base}/p/linksaktiv/me?t={await person_token(ME_PURPOSE, person_id)}"


async def mail_context(person_id: int) -> dict[str, Any] | None:
    """Mail template variables for a confirmed activist: open matching calls and the link."""
    row = await db.fetch_one(
        "SELECT status FROM linksaktiv_activist WHERE person_id = {}", person_id
    )
    if row is None or row["status"] != "confirmed":
        return None
    calls = [
        {"title": c["title"], "text": c["text"], "link": c["link"], "deadline": c["deadline"]}
        for c in await calls_for(person_id)
        if not c["done"]
    ]
    return {"linksaktiv": {"calls": calls, "me_url": await me_url(person_id)}}
