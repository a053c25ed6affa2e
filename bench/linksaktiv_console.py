"""linksaktiv's activist console at scale (issue #27): the activist list over HTTP, and the
weekly digest's enqueue.

Run: ``.venv/bin/python bench/linksaktiv_console.py [--backend postgres|sqlite]
[--people 1000000] [--activists 300000] [--rounds 200]``. Fills the database with a federal
unit, 4 states, 20 districts and N people (``bench/_people.py``), makes ``--activists`` of them
activists (set-based: status, source, ways to help, one or two topics, last activity and the
e-mail consent spread over them) and publishes two calls to action of the federal unit: one
for everyone, one for a topic. Then:

- **digest enqueue**: one run of :func:`plugins.linksaktiv.digest.enqueue_digest` (the pick
  of every activist's items and their send jobs, one transaction), timed in this process;
- **activist list**: ``orga serve`` (one process, production settings) and an organizer of the
  federal unit (a console session) asks the list one page at a time over a keep-alive
  connection: unfiltered, by topic, by status and source, by way to help, a district, active
  since a month, and a second page.

Targets: list p95 ≤ 30 ms per filter; digest enqueue for 300,000 activists ≤ 60 s. Prints
JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, favour_load_generator, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import fill_people, org_tree
from core import db
from core.auth.actor import CONSOLE
from core.auth.services import assign_role, issue_token
from core.auth.tables import User
from core.context import set_runtime
from core.orgs.services import set_module
from core.tables import utcnow

TARGET_LIST_P95_MS = 30.0
TARGET_ENQUEUE_SECONDS = 60.0
_NEXT = re.compile(r'href="([^"]+)" rel="next"')


async def fill_activists(count: int) -> None:
    """Make every ``n``-th person an activist until ``count``: one INSERT … SELECT each for
    the activists, their topics and their e-mail consent."""
    from plugins.linksaktiv.calls import topics

    people = (await db.fetch_one("SELECT COUNT(*) AS n FROM person"))["n"]
    step = max(1, people // max(count, 1))
    now = utcnow()
    day = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres() else "{}"
    status = "CASE WHEN p.id % 10 = 0 THEN 'pending' ELSE 'confirmed' END"
    source = (
        "CASE p.id % 5 WHEN 0 THEN 'info_stand' WHEN 1 THEN 'doors' WHEN 2 THEN 'event' "
        "WHEN 3 THEN 'social_media' ELSE 'web' END"
    )
    helps = (
        'CASE p.id % 4 WHEN 0 THEN \'["doors"]\' WHEN 1 THEN \'["newspapers", "phone"]\' '
        "WHEN 2 THEN '[\"online\"]' ELSE '[]' END"
    )
    if db.is_postgres():
        helps = f"CAST({helps} AS JSON)"
    async with db.transaction():
        await db.execute(
            "INSERT INTO linksaktiv_activist (person_id, status, source, help, consent_wording, "
            "confirmed_at, last_active_at, created_at, updated_at) "
            f"SELECT p.id, {status}, {source}, {helps}, 'Ja', {day}, {day}, {day}, {day} "
            f"FROM person p WHERE p.id % {step} = 0 AND p.id <= {{}}",
            now,
            now,
            now,
            now,
            step * count,
        )
        # last activity spread over the past 120 days
        spread = (
            "last_active_at - (person_id % 120) * INTERVAL '1 day'"
            if db.is_postgres()
            else "datetime(last_active_at, '-' || (person_id % 120) || ' days')"
        )
        await db.execute(f"UPDATE linksaktiv_activist SET last_active_at = {spread}")
        known = [t["id"] for t in await topics()]
        for index, topic in enumerate(known):
            await db.execute(
                "INSERT INTO linksaktiv_interest (person_id, topic_id) "
                f"SELECT person_id, {int(topic)} FROM linksaktiv_activist "
                f"WHERE person_id % {len(known)} = {index} OR person_id % 7 = {index}"
            )
        await db.execute(
            "INSERT INTO consent_event (person_id, channel, purpose, status, source, at) "
            f"SELECT person_id, 'email', 'general', 'granted', 'bench', {day} "
            "FROM linksaktiv_activist",
            now,
        )


async def publish_calls(root: int) -> None:
    """Two published calls of the federal unit: one for everyone, one about rent."""
    import msgspec

    from plugins.linksaktiv.calls import create_call
    from plugins.linksaktiv.schemas import CallToActionIn

    for title, topics in (("Für alle", []), ("Miete", ["rent"])):
        data = {
            "title": title,
            "kind": "offline",
            "starts_at": (utcnow() - timedelta(days=1)).isoformat(),
            "topics": topics,
        }
        await create_call(root, msgspec.convert(data, CallToActionIn))


async def prepare(url: str, people: int, activists: int) -> dict:
    """Fill the database, time the digest enqueue; return what the list measurement needs."""
    async with open_runtime(url) as runtime:
        set_runtime(runtime)
        tree = await org_tree()
        await set_module(tree["root"], "linksaktiv", True)
        started = time.perf_counter()
        await fill_people(people, tree["districts"])
        await fill_activists(activists)
        await publish_calls(tree["root"])
        if db.is_postgres():
            await db.execute("VACUUM ANALYZE")
        filled = time.perf_counter() - started
        from plugins.linksaktiv.digest import enqueue_digest

        started = time.perf_counter()
        picked = await enqueue_digest()
        enqueue_seconds = time.perf_counter() - started
        rows = await User.insert(
            User(email="bench@example.org", display_name="Bench", password_hash="x")
        ).run()
        await assign_role(rows[0]["id"], tree["root"], "organizer", by=None)
        session = await issue_token(rows[0]["id"], kind=CONSOLE, lifetime=None)
        total = await db.fetch_one("SELECT COUNT(*) AS n FROM linksaktiv_activist")
    return {
        "root": tree["root"],
        "district": tree["districts"][0],
        "cookie": session.secret,
        "fill_seconds": round(filled, 1),
        "activists": total["n"],
        "digest_people": picked,
        "enqueue_seconds": round(enqueue_seconds, 2),
    }


async def measure(port: int, cookie: str, paths: dict[str, str], rounds: int) -> dict:
    """Each list ``rounds`` times (after 10 warm-up requests), one request at a time; the
    second page follows the first page's next link."""
    connection = Connection(port, cookie=f"orga_session={cookie}")
    await connection.open()
    figures = {}
    try:
        status, body = await connection.request("GET", paths["all"])
        assert status == 200, body[:300]
        found = _NEXT.search(body.decode() if isinstance(body, bytes) else body)
        paths = {**paths, "second_page": found[1].replace("&amp;", "&") if found else paths["all"]}
        for name, path in paths.items():
            for _ in range(10):
                status, body = await connection.request("GET", path)
                assert status == 200, (path, status, body[:300])
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                status, _ = await connection.request("GET", path)
                samples.append(time.perf_counter() - started)
                assert status == 200
            figures[name] = percentiles(samples)
            figures[name]["pass"] = figures[name]["p95_ms"] <= TARGET_LIST_P95_MS
    finally:
        await connection.close()
    return figures


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--activists", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        setup = await prepare(url, args.people, args.activists)
        proc, port = start_server(url, 1, var)
        try:
            favour_load_generator()
            base = f"/app/orgs/{setup['root']}/linksaktiv/activists"
            since = (utcnow() - timedelta(days=30)).date().isoformat()
            paths = {
                "all": base,
                "topic": f"{base}?topics=rent",
                "status_source": f"{base}?status=confirmed&source=doors",
                "help": f"{base}?help=doors",
                "district": f"{base}?unit_id={setup['district']}",
                "active_since": f"{base}?active_since={since}",
            }
            figures = await measure(port, setup["cookie"], paths, args.rounds)
        finally:
            proc.terminate()
            proc.wait()
    worst = max(f["p95_ms"] for f in figures.values())
    return {
        "benchmark": "linksaktiv_console",
        "backend": args.backend,
        "people": args.people,
        "activists": setup["activists"],
        "fill_seconds": setup["fill_seconds"],
        "digest": {
            "people_picked": setup["digest_people"],
            "enqueue_seconds": setup["enqueue_seconds"],
            "target_seconds": TARGET_ENQUEUE_SECONDS,
            "pass": setup["enqueue_seconds"] <= TARGET_ENQUEUE_SECONDS,
        },
        "list": figures,
        "list_worst_p95_ms": worst,
        "pass": worst <= TARGET_LIST_P95_MS and setup["enqueue_seconds"] <= TARGET_ENQUEUE_SECONDS,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
