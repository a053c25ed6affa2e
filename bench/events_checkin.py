"""The check-in and the participants page at scale, over HTTP with a session cookie (#26).

Run: ``.venv/bin/python bench/events_checkin.py [--backend postgres|sqlite] [--people 20000]
[--participations 100000] [--attendees 1000] [--rounds 300]``. Fills a federal unit with 20
districts, N people, 10 participations an event up to ``--participations`` (bench/events.py)
and one running event with ``--attendees`` people signed up; logs an organizer of the federal
unit in (a console session), starts ``orga serve`` (one process, production settings) and,
one request at a time over a keep-alive connection as a phone at the door would: taps people
in and out (a POST with the session cookie and the CSRF token, answered 303 to the list), and
asks the participants page (100 rows with contact details, audited). Targets: tap p95 ≤ 20 ms,
participants page p95 ≤ 30 ms. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, favour_load_generator, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import fill_people, org_tree
from bench.events import _insert, fill_events
from core import db
from core.auth.actor import CONSOLE
from core.auth.services import assign_role, issue_token
from core.auth.tables import User
from core.orgs.services import set_module
from core.tables import utcnow

TARGETS_MS = {"checkin_tap": 20.0, "participants_page": 30.0}
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


async def _running_event(district: int, attendees: int, people: int) -> tuple[int, list[int]]:
    """A published event that started 30 minutes ago with ``attendees`` people signed up."""
    now = utcnow().replace(microsecond=0)
    rows = await db.fetch(
        "INSERT INTO events_event (org_id, title, description, type, start_at, end_at, "
        "timezone, visibility, state, reminder_hours, change_seq, created_at, updated_at) "
        "VALUES ({}, 'Infostand Check-in', '', 'info_stand', {}, {}, 'Europe/Berlin', "
        "'public', 'published', 24, 0, {}, {}) RETURNING id",
        district,
        now - timedelta(minutes=30),
        now + timedelta(hours=4),
        now,
        now,
    )
    event_id = rows[0]["id"]
    chosen = random.Random(3).sample(range(1, people + 1), attendees)
    columns = ("event_id", "person_id", "status", "source", "created_at", "updated_at")
    await _insert(
        "events_participation",
        columns,
        [(event_id, pid, "signed_up", "public", now, now) for pid in chosen],
    )
    ids = await db.fetch(
        "SELECT id FROM events_participation WHERE event_id = {} ORDER BY id", event_id
    )
    return event_id, [row["id"] for row in ids]


async def prepare(url: str, args: argparse.Namespace) -> dict:
    """Fill the database; the event's unit and id, its participations and a session."""
    async with open_runtime(url):
        tree = await org_tree()
        await set_module(tree["root"], "events", True)
        await fill_people(args.people, tree["districts"])
        await fill_events(
            args.participations // 10, args.participations, tree["districts"], args.people
        )
        district = tree["districts"][0]
        event_id, participations = await _running_event(district, args.attendees, args.people)
        if db.is_postgres():
            await db.execute("VACUUM ANALYZE")
        rows = await User.insert(
            User(email="bench@example.org", display_name="Bench", password_hash="x")
        ).run()
        await assign_role(rows[0]["id"], tree["root"], "organizer", by=None)
        session = await issue_token(rows[0]["id"], kind=CONSOLE, lifetime=None)
    return {
        "org": district,
        "event": event_id,
        "participations": participations,
        "secret": session.secret,
    }


async def measure(port: int, setup: dict, rounds: int) -> dict:
    """Taps (POST, 303) and participants pages (GET), one at a time, after a warm-up."""
    connection = Connection(port, cookie=f"orga_session={setup['secret']}")
    await connection.open()
    base = f"/app/orgs/{setup['org']}/events/{setup['event']}"
    rng = random.Random(11)
    figures = {}
    try:
        status, page = await connection.request("GET", f"{base}/checkin")
        assert status == 200, (status, page[:300])
        token = _CSRF.search(page.decode())
        assert token is not None
        form = f"_csrf={quote(token.group(1))}"
        taps = [f"{base}/checkin/{pid}" for pid in setup["participations"]]
        pages = [f"{base}/participants", f"{base}/participants?status=signed_up"]
        for name, method, paths, expect in (
            ("checkin_tap", "POST", taps, 303),
            ("participants_page", "GET", pages, 200),
        ):
            samples = []
            for n in range(20 + rounds):
                path = rng.choice(paths) if method == "POST" else paths[n % len(paths)]
                started = time.perf_counter()
                if method == "POST":
                    status, body = await connection.request_form("POST", path, form)
                else:
                    status, body = await connection.request("GET", path)
                if n >= 20:
                    samples.append(time.perf_counter() - started)
                assert status == expect, (path, status, body[:300])
            figures[name] = percentiles(samples)
            figures[name]["target_p95_ms"] = TARGETS_MS[name]
            figures[name]["pass"] = figures[name]["p95_ms"] <= TARGETS_MS[name]
    finally:
        await connection.close()
    return figures


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--participations", type=int, default=100_000)
    parser.add_argument("--attendees", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        started = time.perf_counter()
        setup = await prepare(url, args)
        filled = time.perf_counter() - started
        proc, port = start_server(url, 1, var)
        try:
            favour_load_generator()
            figures = await measure(port, setup, args.rounds)
        finally:
            proc.terminate()
            proc.wait()
    return {
        "benchmark": "events_checkin",
        "backend": args.backend,
        "people": args.people,
        "participations": args.participations,
        "attendees": args.attendees,
        "fill_seconds": round(filled, 1),
        "pages": figures,
        "pass": all(page["pass"] for page in figures.values()),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
