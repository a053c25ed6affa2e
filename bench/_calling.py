"""The calling benchmarks' campaign: people, an assignment whose queue is a random sample of
them, callers on its roster with a credential each, and optionally an organizer."""

from __future__ import annotations

import time
from datetime import timedelta

from bench._common import open_runtime
from bench._people import fill_people, org_tree
from core import db
from core.tables import utcnow


async def prepare_campaign(
    url: str,
    *,
    people: int,
    targets: int,
    callers: int,
    title: str,
    console: bool = False,
    organizer: bool = False,
) -> dict:
    """Fill the database at ``url`` and return the ids, the callers' secrets (API tokens, or
    console sessions with ``console``), an organizer's console session with ``organizer``,
    the queue's size and the timings. A campaign starts days after its people were imported,
    when autovacuum has digested the import and checkpoints have written it: both are done
    here, not inside the first measured phase."""
    from core.auth.actor import CONSOLE
    from core.auth.services import assign_role, issue_token
    from core.context import set_runtime
    from core.orgs.services import set_module
    from core.testing import OrgaFactory
    from plugins.calling.assignments import create_assignment
    from plugins.calling.schemas import AssignmentIn

    async def credential(user_id: int) -> str:
        if console:
            return (await issue_token(user_id, kind=CONSOLE, lifetime=None)).secret
        return (await issue_token(user_id)).secret

    async with open_runtime(url) as runtime:
        set_runtime(runtime)
        tree = await org_tree()
        fill_seconds = await fill_people(people, tree["districts"])
        root = await db.fetch_one("SELECT * FROM org_unit WHERE id = {}", tree["root"])
        await set_module(root["id"], "calling", True)
        started = time.perf_counter()
        sample = {"type": "random_sample", "size": min(targets, people), "seed": 7}
        assignment = await create_assignment(
            root["id"],
            root["path"],
            AssignmentIn(
                title=title,
                target={"filters": [sample]},
                start_at=utcnow() - timedelta(hours=1),
            ),
        )
        queue_seconds = time.perf_counter() - started
        factory = OrgaFactory()
        secrets = []
        for n in range(callers):
            user = await factory.user(None, None, email=f"caller{n}@bench.invalid")
            await assign_role(user.id, root["id"], "caller", by=None)
            await db.execute(
                "INSERT INTO calling_caller (assignment_id, user_id, prioritized_tags, "
                "excluded_tags, created_at, updated_at) VALUES ({}, {}, '[]', '[]', {}, {})",
                assignment["id"],
                user.id,
                utcnow(),
                utcnow(),
            )
            secrets.append(await credential(user.id))
        organizer_secret = None
        if organizer:
            boss = await factory.user(None, None, email="organizer@bench.invalid")
            await assign_role(boss.id, root["id"], "organizer", by=None)
            organizer_secret = await credential(boss.id)
        queued = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM calling_target WHERE assignment_id = {}", assignment["id"]
        )
        if db.is_postgres():
            await db.execute("VACUUM ANALYZE")
            await db.execute("CHECKPOINT")
        else:
            await db.execute("ANALYZE")
    return {
        "root": root["id"],
        "assignment": assignment["id"],
        "targets": int(queued["n"]),
        "secrets": secrets,
        "organizer": organizer_secret,
        "fill_people_s": round(fill_seconds, 1),
        "materialize_queue_s": round(queue_seconds, 2),
    }
