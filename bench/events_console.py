"""The organizer's events pages at scale, over HTTP with a console session (issue #26).

Run: ``.venv/bin/python bench/events_console.py [--backend postgres|sqlite] [--events 10000]
[--participations 100000] [--rounds 300] [--page list ...]``. Fills the database like
``bench/events.py`` (20 districts, events over the past and the next year, participations on
random events), logs in an organizer of the federal unit (a console session), starts ``orga
serve`` (one process, production settings) and asks one page at a time over a keep-alive
connection. Pages (``--page``, repeatable; default all of ``PAGES``): ``list``, the events
list of a district (upcoming and past tabs) and of the federal unit with the units below it
(upcoming, filtered by type, and a month). Target: p95 ≤ 30 ms each. Prints JSON.

Another page joins by one entry in ``PAGES``: a name and a function from the :class:`Filled`
database to the addresses to ask (e.g. an event's participants page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, favour_load_generator, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import fill_people, org_tree
from bench.events import fill_events
from core import db
from core.auth.actor import CONSOLE
from core.auth.services import assign_role, issue_token
from core.auth.tables import User
from core.orgs.services import set_module
from core.tables import utcnow

TARGET_MS = 30.0


@dataclass
class Filled:
    """What a page's addresses are made from: the units and some events (busiest first)."""

    root: int
    district: int
    events: list[tuple[int, int]]  # (org_id, event_id), most participations first
    month: str


def _list_paths(filled: Filled) -> dict[str, list[str]]:
    root, district = f"/app/orgs/{filled.root}/events", f"/app/orgs/{filled.district}/events"
    return {
        "list_district_upcoming": [district],
        "list_district_past": [f"{district}?tab=past"],
        "list_federal_upcoming": [root],
        "list_federal_type": [f"{root}?type=info_stand"],
        "list_federal_month": [f"{root}?view=month&month={filled.month}"],
    }


PAGES: dict[str, Callable[[Filled], dict[str, list[str]]]] = {"list": _list_paths}
"""``--page`` name → the measured addresses by figure name (each must answer 200)."""


async def prepare(url: str, events: int, participations: int, people: int) -> tuple[Filled, str]:
    """Fill the database; return what the pages need and a console session secret."""
    async with open_runtime(url):
        tree = await org_tree()
        await set_module(tree["root"], "events", True)
        await fill_people(people, tree["districts"])
        await fill_events(events, participations, tree["districts"], people)
        if db.is_postgres():
            await db.execute("VACUUM ANALYZE")
        rows = await User.insert(
            User(email="bench@example.org", display_name="Bench", password_hash="x")
        ).run()
        await assign_role(rows[0]["id"], tree["root"], "organizer", by=None)
        session = await issue_token(rows[0]["id"], kind=CONSOLE, lifetime=None)
        busiest = await db.fetch(
            "SELECT e.org_id, e.id FROM events_event e JOIN events_participation pa "
            "ON pa.event_id = e.id GROUP BY e.org_id, e.id ORDER BY COUNT(*) DESC, e.id LIMIT 50"
        )
    filled = Filled(
        root=tree["root"],
        district=tree["districts"][0],
        events=[(r["org_id"], r["id"]) for r in busiest],
        month=utcnow().strftime("%Y-%m"),
    )
    return filled, session.secret


async def measure(port: int, cookie: str, paths: dict[str, list[str]], rounds: int) -> dict:
    """Each page ``rounds`` times (after 20 warm-up requests), one request at a time."""
    connection = Connection(port, cookie=f"orga_session={cookie}")
    await connection.open()
    figures = {}
    try:
        for name, candidates in paths.items():
            for n in range(20):
                status, body = await connection.request("GET", candidates[n % len(candidates)])
                assert status == 200, (name, status, body[:300])
            samples = []
            for n in range(rounds):
                started = time.perf_counter()
                status, _ = await connection.request("GET", candidates[n % len(candidates)])
                samples.append(time.perf_counter() - started)
                assert status == 200
            figures[name] = percentiles(samples)
            figures[name]["target_p95_ms"] = TARGET_MS
            figures[name]["pass"] = figures[name]["p95_ms"] <= TARGET_MS
    finally:
        await connection.close()
    return figures


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--participations", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--page", choices=sorted(PAGES), action="append")
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        started = time.perf_counter()
        filled, cookie = await prepare(url, args.events, args.participations, args.people)
        fill_seconds = time.perf_counter() - started
        proc, port = start_server(url, 1, var)
        try:
            favour_load_generator()
            paths: dict[str, list[str]] = {}
            for page in args.page or sorted(PAGES):
                paths.update(PAGES[page](filled))
            figures = await measure(port, cookie, paths, args.rounds)
        finally:
            proc.terminate()
            proc.wait()
    return {
        "benchmark": "events_console",
        "backend": args.backend,
        "events": args.events,
        "participations": args.participations,
        "fill_seconds": round(fill_seconds, 1),
        "pages": figures,
        "pass": all(page["pass"] for page in figures.values()),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
