"""Topics and calls to action: which calls match an activist, "I did it", mail context."""

from __future__ import annotations

from typing import Any

from core.api import conflict, db, invalid, person_token, utcnow
from plugins.linksaktiv.config import config

__all__ = [
    "MAX_TOPICS",
    "calls_for",
    "create_topic",
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


async def create_topic(slug: str, title: str) -> dict[str, Any]:
    """Add a topic (409 when the slug exists, or when the deployment has :data:`MAX_TOPICS`,
    switched off ones included: the list is one answer, and one form on the public pages)."""
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
    return rows[0]


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
    "WHERE substr(CAST({} AS TEXT), 1, length(u.path)) = u.path AND c.starts_at <= {} "
    "AND (c.deadline IS NULL OR c.deadline >= {}) ORDER BY c.deadline, c.id"
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
    for row in await db.fetch(_OPEN_CALLS, person["path"], now, now):
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
