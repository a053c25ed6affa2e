"""Fill a benchmark database with an org tree and many people, fast (multi-row INSERTs)."""

from __future__ import annotations

import random
import time
from typing import Any

from core import db
from core.orgs.services import create_unit
from core.tables import utcnow

FIRST = ["Anna", "Jürgen", "Åsa", "Mehmet", "Olga", "Sören", "Zoë", "Björn", "Rosa", "Karl"]
LAST = ["Müller", "Öberg", "Schröder", "Nowak", "Lindström", "Weber", "Wagner", "Becker"]


async def org_tree(states: int = 4, districts_per_state: int = 5) -> dict[str, Any]:
    """A federal unit, ``states`` states and their districts; returns their ids."""
    root = await create_unit("Bund", "federal", None)
    districts = []
    for s in range(states):
        state = await create_unit(f"Land {s}", "state", root["id"])
        for d in range(districts_per_state):
            districts.append((await create_unit(f"KV {s}.{d}", "district", state["id"]))["id"])
    return {"root": root["id"], "districts": districts}


async def fill_people(count: int, districts: list[int], seed: int = 1) -> float:
    """Insert ``count`` people with one phone each; returns seconds taken."""
    rng = random.Random(seed)
    started = time.perf_counter()
    now = utcnow()
    chunk = 500
    next_id = 1 + ((await db.fetch_one("SELECT MAX(id) AS m FROM person"))["m"] or 0)
    for start in range(0, count, chunk):
        rows, phones = [], []
        for n in range(start, min(count, start + chunk)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            person_id = next_id + n
            rows += [
                person_id,
                first,
                last,
                f"{first} {last}".lower(),
                f"{last} {first}".lower(),
                f"p{person_id}@example.org",
                f"{rng.randrange(10000, 99999)}",
                rng.choice(["member", "sympathizer", "contact"]),
                rng.choice(districts),
                "{}",
                True,
                now,
                now,
            ]
            phones += [person_id, f"+4930{person_id:09d}"]
        marks = ", ".join(["(" + ", ".join(["{}"] * 13) + ")"] * (len(rows) // 13))
        async with db.transaction():
            await db.execute(
                "INSERT INTO person (id, first_name, last_name, first_key, last_key, email, "
                "postal_code, member_status, home_org_id, custom_fields, has_phone, created_at, "
                "updated_at)"
                f" VALUES {marks}",
                *rows,
            )
            phone_marks = ", ".join(["({}, {}, true, 0)"] * (len(phones) // 2))
            await db.execute(
                f"INSERT INTO person_phone (person_id, e164, valid, position) VALUES {phone_marks}",
                *phones,
            )
    if db.is_postgres():
        await db.execute("SELECT setval('person_id_seq', (SELECT MAX(id) FROM person))")
        await db.execute("ANALYZE")
    else:
        await db.execute("ANALYZE")
    return time.perf_counter() - started
