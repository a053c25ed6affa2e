"""Topics and calls to action: which calls match an activist, "I did it", mail context."""

from __future__ import annotations

from typing import Any

import msgspec

from core.api import (
    N_,
    ancestors_sql,
    conflict,
    contactable_sql,
    db,
    invalid,
    is_under,
    not_found,
    not_opted_out_sql,
    person_token,
    record,
    scope,
    to_row,
    utcnow,
)
from plugins.linksaktiv.config import config
from plugins.linksaktiv.schedule import schedule_digest
from plugins.linksaktiv.schemas import CallToActionIn
from plugins.linksaktiv.tables import Call

__all__ = [
    "DIGEST_PURPOSE",
    "MAX_TOPICS",
    "audience_sql",
    "call_results",
    "calls_for",
    "create_call",
    "create_topic",
    "done_counts",
    "ensure_topics",
    "mail_context",
    "mark_done",
    "me_url",
    "publish_call",
    "reach",
    "topic_ids",
    "topics",
    "touch_activity",
    "update_call",
]

ME_PURPOSE = "linksaktiv.me"
#: The consent purpose of the weekly digest: withdrawing it stops the digest, nothing else.
DIGEST_PURPOSE = "linksaktiv_digest"
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


async def update_topic(org_id: int, topic_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """Change a topic's columns (``title``, ``active``: retired topics leave the forms),
    audited as ``linksaktiv.topic_updated`` in unit ``org_id``; returns it (404 when there is
    none)."""
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
    if values:
        detail = {k: v for k, v in values.items() if k != "updated_at"}
        await record(
            "linksaktiv.topic_updated",
            org_id=org_id,
            object_type="topic",
            object_id=topic_id,
            detail=detail,
        )
    return row


async def _checked(org_id: int, data: CallToActionIn) -> dict[str, Any]:
    """The call's columns from ``data``, checked: a link where the kind needs one, the
    deadline after the start, known topics, regions inside unit ``org_id``'s subtree.

    Raises:
        Problem: 422 naming ``link``, ``event_id``, ``deadline``, ``topics`` or ``regions``.
    """
    if data.kind in ("visit_link", "share_link") and not data.link:
        raise invalid("link", N_("this kind of call needs a link"))
    if data.kind == "event" and data.event_id is None and not data.link:
        raise invalid("event_id", N_("name the event or link to it"))
    if data.deadline is not None and data.deadline < data.starts_at:
        raise invalid("deadline", N_("the deadline comes before the start"))
    ids = await topic_ids(data.topics)
    regions = sorted(set(data.regions))
    if regions:
        unit = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", org_id)
        marks = ", ".join(["{}"] * len(regions))
        rows = await db.fetch(f"SELECT id, path FROM org_unit WHERE id IN ({marks})", *regions)
        inside = {r["id"] for r in rows if unit and is_under(r["path"], unit["path"])}
        if inside != set(regions):
            raise invalid("regions", N_("a region must be a unit of this unit's area"))
    values = to_row(data)
    values.pop("topics")
    values.pop("regions")
    values["topic_ids"] = msgspec.json.encode(ids).decode()
    values["region_ids"] = msgspec.json.encode(regions).decode()
    return values


async def create_call(org_id: int, data: CallToActionIn, *, publish: bool = True) -> int:
    """A call for the region of unit ``org_id`` (its subtree, or the ``regions`` in it) and
    the given topics (none: everyone), audited as ``linksaktiv.call_created``; returns its
    id. ``publish``: live at once (the JSON API), else a draft to publish later.

    Raises:
        Problem: 422 naming ``link``, ``event_id``, ``deadline``, ``topics`` or ``regions``.
    """
    values = await _checked(org_id, data)
    if publish:
        values["published_at"] = utcnow()
    rows = await Call.insert(Call(org=org_id, **values)).run()
    await record(
        "linksaktiv.call_created", org_id=org_id, object_type="call", object_id=rows[0]["id"]
    )
    if publish:
        await schedule_digest()
    return rows[0]["id"]


async def update_call(org_id: int, call_id: int, data: CallToActionIn) -> None:
    """Change a call of unit ``org_id`` (404 for another unit's), audited as
    ``linksaktiv.call_updated``; a published call stays published.

    Raises:
        Problem: 404 for a call of another unit; 422 as :func:`create_call`.
    """
    await _call_of(org_id, call_id)
    values = await _checked(org_id, data)
    values["updated_at"] = utcnow()
    columns = ", ".join(f"{k} = {{}}" for k in values)
    await db.execute(
        f"UPDATE linksaktiv_call SET {columns} WHERE id = {{}}", *values.values(), call_id
    )
    await record("linksaktiv.call_updated", org_id=org_id, object_type="call", object_id=call_id)


async def publish_call(org_id: int, call_id: int) -> None:
    """Publish a draft call of unit ``org_id``: activists see it on their page and get it in
    their next weekly digest (scheduled here). Audited as ``linksaktiv.call_published``.

    Raises:
        Problem: 404 for a call of another unit; 409 when it is published already.
    """
    await _call_of(org_id, call_id)
    now = utcnow()
    rows = await db.fetch(
        "UPDATE linksaktiv_call SET published_at = {}, updated_at = {} WHERE id = {} "
        "AND published_at IS NULL RETURNING id",
        now,
        now,
        call_id,
    )
    if not rows:
        raise conflict("The call is published already.", field="published_at")
    await record("linksaktiv.call_published", org_id=org_id, object_type="call", object_id=call_id)
    await schedule_digest()


async def _call_of(org_id: int, call_id: int) -> dict[str, Any]:
    row = await db.fetch_one(
        "SELECT * FROM linksaktiv_call WHERE id = {} AND org_id = {}", call_id, org_id
    )
    if row is None:
        raise not_found("call")
    return row


async def audience_sql(call: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL on ``a`` (``linksaktiv_activist``) and ``p`` (``person``): the confirmed activists
    the call is for (home unit in its region, interested in one of its topics when it has
    any) whom its mail may reach (an address, e-mail consent, not off the digest)."""
    regions = db.json_value(call["region_ids"]) or [call["org_id"]]
    marks = ", ".join(["{}"] * len(regions))
    paths = await db.fetch(f"SELECT path FROM org_unit WHERE id IN ({marks})", *regions)
    parts, args = [], []
    for row in paths:
        condition, scoped = await scope(row["path"])
        parts.append(condition)
        args += scoped
    where = [
        "a.status = 'confirmed'",
        f"({' OR '.join(parts) or '1 = 0'})",
        "p.email IS NOT NULL",
        contactable_sql("email"),
        not_opted_out_sql("email", "p", DIGEST_PURPOSE),
    ]
    topics_wanted = db.json_value(call["topic_ids"]) or []
    if topics_wanted:
        marks = ", ".join(str(int(t)) for t in topics_wanted)
        where.append(
            "EXISTS (SELECT 1 FROM linksaktiv_interest i WHERE i.person_id = a.person_id "
            f"AND i.topic_id IN ({marks}))"
        )
    return " AND ".join(where), args


async def reach(call: dict[str, Any]) -> int:
    """How many activists the call reaches (:func:`audience_sql`): shown before publishing."""
    where, args = await audience_sql(call)
    row = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM linksaktiv_activist a JOIN person p ON p.id = a.person_id "
        f"WHERE {where}",
        *args,
    )
    return int(row["n"]) if row else 0


async def call_results(call: dict[str, Any]) -> list[dict[str, Any]]:
    """ "I did it" per unit below the call's unit: one row per child unit (its whole subtree
    counted in it) and one for the unit itself (``own``), each with ``org_id``, ``label`` and
    ``done``, most first."""
    unit = await db.fetch_one("SELECT id, name, path FROM org_unit WHERE id = {}", call["org_id"])
    rows = await db.fetch(
        "SELECT u.path, COUNT(*) AS n FROM linksaktiv_call_done d "
        "JOIN person p ON p.id = d.person_id JOIN org_unit u ON u.id = p.home_org_id "
        "WHERE d.call_id = {} GROUP BY u.path",
        call["id"],
    )
    children = await db.fetch(
        "SELECT id, name, path FROM org_unit WHERE parent_id = {} ORDER BY name, id", unit["id"]
    )
    counts = {child["path"]: 0 for child in children}
    names = {child["path"]: child["name"] for child in children}
    own = 0
    for row in rows:
        child = next((c for c in counts if is_under(row["path"], c)), None)
        if child is None:
            own += int(row["n"])  # the unit itself, or moved out of its area since
        else:
            counts[child] += int(row["n"])
    ids = {child["path"]: child["id"] for child in children}
    result = [
        {"org_id": ids[path], "label": names[path], "done": n, "own": False}
        for path, n in counts.items()
    ]
    result.append({"org_id": unit["id"], "label": unit["name"], "done": own, "own": True})
    return sorted(result, key=lambda r: -r["done"])


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
    "c.region_ids, c.starts_at, c.deadline FROM linksaktiv_call c "
    "JOIN org_unit u ON u.id = c.org_id "
    "WHERE {above} AND c.published_at IS NOT NULL AND c.starts_at <= {{}} "
    "AND (c.deadline IS NULL OR c.deadline >= {{}}) ORDER BY c.deadline, c.id"
)


async def calls_for(person_id: int) -> list[dict[str, Any]]:
    """Open, published calls of the person's home unit and the units above it, matching
    their topics and region.

    A call without topics is for everyone in its region (its unit's subtree, or the subtrees
    of its ``region_ids``). Each call carries ``done``.
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
    home_line = {int(part) for part in person["path"].strip("/").split("/") if part}
    for row in await db.fetch(_OPEN_CALLS.format(above=above), *args, now, now):
        wanted = set(db.json_value(row["topic_ids"]) or [])
        if wanted and not wanted & mine:
            continue
        regions = set(db.json_value(row.pop("region_ids")) or [])
        if regions and not regions & home_line:
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
    await touch_activity(person_id)
    return True


async def touch_activity(person_id: int) -> None:
    """Note that the activist did something now (the activist list's "active since")."""
    await db.execute(
        "UPDATE linksaktiv_activist SET last_active_at = {} WHERE person_id = {}",
        utcnow(),
        person_id,
    )


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
