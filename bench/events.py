"""Public event pages with many events: the list of a unit, a unit's subtree, an event page.

Run: ``.venv/bin/python bench/events.py [--backend sqlite|postgres] [--events 10000]
[--participations 100000] [--rounds 300]``. Builds its own database (an org tree of 20
districts, 20,000 people, events spread over the past and the next year, participations on
random events), then requests the public pages through the real ASGI app in process, one at a
time, and prints p50/p95 in milliseconds as JSON. Target (issue 7): list and event page
≤ 20 ms p95 with 10,000 events and 100,000 participations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import msgspec

from bench._common import database_url, open_runtime
from bench._people import fill_people, org_tree
from core import db
from core.app import create_app
from core.orgs.services import set_module
from core.tables import utcnow

logging.getLogger("httpx").setLevel(logging.WARNING)

EVENT_COLUMNS = (
    "org_id", "title", "description", "type", "start_at", "end_at", "timezone", "location",
    "campaign", "capacity", "visibility", "state", "reminder_hours", "change_seq",
    "created_at", "updated_at",
)  # fmt: skip
TYPES = ["info_stand", "canvassing", "distribution", "meeting", "demo", "phone_bank"]
PLACES = ["Marktplatz", "Bahnhofsvorplatz", "Stadtteilzentrum", "Rathaus", "Parkeingang"]


def _event_rows(count: int, districts: list[int], rng: random.Random) -> list[tuple]:
    now = utcnow().replace(microsecond=0)
    rows = []
    for n in range(count):
        start = now + timedelta(hours=rng.randrange(-365 * 24, 365 * 24))
        location = {"name": rng.choice(PLACES), "address": f"Hauptstraße {n % 200 + 1}"}
        rows.append(
            (
                rng.choice(districts),
                f"{rng.choice(['Infostand', 'Verteilaktion', 'Haustür', 'Treffen'])} {n}",
                "Wir sammeln Unterschriften und sprechen mit den Nachbarn. " * 3,
                rng.choice(TYPES),
                start,
                start + timedelta(hours=rng.choice([1, 2, 3])),
                "Europe/Berlin",
                msgspec.json.encode(location).decode(),
                rng.choice(["Mieten", "Frieden", None]),
                rng.choice([None, 10, 20, 50]),
                rng.choices(["public", "members", "internal"], [80, 15, 5])[0],
                rng.choices(["published", "draft", "cancelled"], [85, 10, 5])[0],
                24,
                0,
                now,
                now,
            )
        )
    return rows


async def fill_events(count: int, participations: int, districts: list[int], people: int) -> float:
    """Insert the events and participations (bulk); returns seconds taken."""
    rng = random.Random(7)
    started = time.perf_counter()
    rows = _event_rows(count, districts, rng)
    await _insert("events_event", EVENT_COLUMNS, rows)
    ids = [r["id"] for r in await db.fetch("SELECT id FROM events_event ORDER BY id")]
    per_event = max(1, participations // len(ids))
    now = utcnow()
    batch: list[tuple] = []
    made = 0
    for event_id in ids:
        take = min(per_event, participations - made)
        for person_id in rng.sample(range(1, people + 1), take):
            status = rng.choices(["signed_up", "booked", "waiting", "cancelled"], [50, 35, 5, 10])
            batch.append((event_id, person_id, status[0], "organizer", now, now))
        made += take
        if len(batch) >= 5000:
            await _insert_participations(batch)
            batch = []
    if batch:
        await _insert_participations(batch)
    await db.execute("ANALYZE")
    return time.perf_counter() - started


async def _insert_participations(batch: list[tuple]) -> None:
    columns = ("event_id", "person_id", "status", "source", "created_at", "updated_at")
    await _insert("events_participation", columns, batch)


async def _insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Multi-row INSERTs of 500 rows (through the engine, like the people benchmark)."""
    row_marks = "(" + ", ".join(["{}"] * len(columns)) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        async with db.transaction():
            await db.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                + ", ".join([row_marks] * len(chunk)),
                *[value for row in chunk for value in row],
            )


async def timed(client: httpx.AsyncClient, urls: list[str], rounds: int) -> dict:
    """p50/p95 of ``rounds`` GETs cycling through ``urls``."""
    samples = []
    for n in range(rounds):
        started = time.perf_counter()
        response = await client.get(urls[n % len(urls)], headers={"accept-language": "de"})
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95)], 2),
    }


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--participations", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with database_url(args.backend) as url:
        async with open_runtime(url) as runtime:
            tree = await org_tree()
            await set_module(tree["root"], "events", True)
            await fill_people(args.people, tree["districts"])
            fill_seconds = await fill_events(
                args.events, args.participations, tree["districts"], args.people
            )
            district = tree["districts"][0]
            state = (await db.fetch_one("SELECT parent_id FROM org_unit WHERE id = {}", district))[
                "parent_id"
            ]
            shown = await db.fetch(
                "SELECT id, org_id FROM events_event WHERE visibility = 'public' "
                "AND state = 'published' AND end_at > {} ORDER BY id LIMIT 200",
                utcnow(),
            )
            counts = await db.fetch_one(
                "SELECT (SELECT COUNT(*) FROM events_event) AS events, "
                "(SELECT COUNT(*) FROM events_participation) AS participations"
            )
            settings = runtime.settings
        app = create_app(settings)
        from asgi_lifespan import LifespanManager

        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                pages = [f"/p/events/{e['org_id']}/{e['id']}" for e in shown]
                await timed(client, [*pages[:20], f"/p/events/{district}"], 40)  # warm up
                unit_list = await timed(client, [f"/p/events/{district}"], args.rounds)
                subtree_list = await timed(client, [f"/p/events/{state}?subtree=true"], args.rounds)
                event_page = await timed(client, pages, args.rounds)
                feed_url = f"/p/events/{district}/feed.ics"
                feed = await timed(client, [feed_url], args.rounds)
                cold = []
                for _ in range(20):  # without the per-process feed cache
                    app.state["events_feed_cache"].clear()
                    cold.append((await timed(client, [feed_url], 1))["p50_ms"])
    return {
        "benchmark": "events",
        "backend": args.backend,
        "events": counts["events"],
        "participations": counts["participations"],
        "fill_seconds": round(fill_seconds, 1),
        "public_list_unit": unit_list,
        "public_list_subtree_5_units": subtree_list,
        "public_event_page": event_page,
        "ics_feed_unit_cached": feed,
        "ics_feed_unit_uncached_p50_ms": round(statistics.median(cold), 2),
        "target_p95_ms": 20,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
