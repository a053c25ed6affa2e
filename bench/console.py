"""The console's main pages at scale, over HTTP with a session cookie (issue #24).

Run: ``.venv/bin/python bench/console.py [--backend postgres|sqlite] [--people 1000000]
[--rounds 300]``. Fills the database with a federal unit, 4 states, 20 districts and N people
(one phone each), logs an organizer of the federal unit in (a console session), starts ``orga
serve`` (one process, production settings) and asks one page at a time over a keep-alive
connection, as a person clicking through would: the people list searched by a name prefix
(every person of the party in scope), the same search narrowed by a segment (members with a
phone number: the list and the builder's count), a person page, the federal start page.
Targets: list with a search (and with a segment) p95 ≤ 30 ms, person page p95 ≤ 20 ms, start
page p95 ≤ 20 ms. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, favour_load_generator, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import LAST, fill_people, org_tree
from core import db
from core.auth.actor import CONSOLE
from core.auth.services import assign_role, issue_token
from core.auth.tables import User

TARGETS_MS = {"people_search": 30.0, "people_segment": 30.0, "person": 20.0, "start": 20.0}
# the segment builder's conditions for the filtered list: members with a phone number
SEGMENT_QUERY = "w=all&w.0=member_status&w.0.statuses=member&w.1=has_phone"


async def prepare(url: str, people: int) -> tuple[int, str, list[int]]:
    """Fill the database; return the federal unit, a console session secret and some ids."""
    async with open_runtime(url):
        tree = await org_tree()
        await fill_people(people, tree["districts"])
        if db.is_postgres():
            await db.execute("VACUUM ANALYZE")
        rows = await User.insert(
            User(email="bench@example.org", display_name="Bench", password_hash="x")
        ).run()
        await assign_role(rows[0]["id"], tree["root"], "organizer", by=None)
        session = await issue_token(rows[0]["id"], kind=CONSOLE, lifetime=None)
        sample = await db.fetch("SELECT id FROM person ORDER BY id LIMIT 2000")
    return tree["root"], session.secret, [row["id"] for row in sample]


async def measure(port: int, cookie: str, paths: dict[str, list[str]], rounds: int) -> dict:
    """Each page ``rounds`` times (after 20 warm-up requests), one request at a time."""
    connection = Connection(port, cookie=f"orga_session={cookie}")
    await connection.open()
    figures = {}
    try:
        for name, candidates in paths.items():
            for path in candidates[:20]:
                status, body = await connection.request("GET", path)
                assert status == 200, (path, status, body[:300])
            samples = []
            for n in range(rounds):
                started = time.perf_counter()
                status, _ = await connection.request("GET", candidates[n % len(candidates)])
                samples.append(time.perf_counter() - started)
                assert status == 200
            figures[name] = percentiles(samples)
            figures[name]["target_p95_ms"] = TARGETS_MS[name]
            figures[name]["pass"] = figures[name]["p95_ms"] <= TARGETS_MS[name]
    finally:
        await connection.close()
    return figures


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(5)
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        started = time.perf_counter()
        root, cookie, ids = await prepare(url, args.people)
        filled = time.perf_counter() - started
        proc, port = start_server(url, 1, var)
        try:
            favour_load_generator()
            base = f"/app/orgs/{root}"
            paths = {
                "people_search": [
                    f"{base}/people?q={quote(last[:4].lower())}"
                    for last in rng.sample(LAST, len(LAST))
                ],
                "people_segment": [
                    f"{base}/people?q={quote(last[:4].lower())}&{SEGMENT_QUERY}"
                    for last in rng.sample(LAST, len(LAST))
                ],
                "person": [f"{base}/people/{pid}" for pid in rng.sample(ids, 300)],
                "start": [base],
            }
            figures = await measure(port, cookie, paths, args.rounds)
        finally:
            proc.terminate()
            proc.wait()
    return {
        "benchmark": "console",
        "backend": args.backend,
        "people": args.people,
        "fill_seconds": round(filled, 1),
        "pages": figures,
        "pass": all(page["pass"] for page in figures.values()),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
