"""Phone banking at scale: 200 callers reserving and reporting calls over HTTP.

Run: ``.venv/bin/python bench/calling.py [--backend postgres|sqlite] [--people 1000000]
[--targets 200000] [--callers 200] [--seconds 20] [--workers 2]``.
Target (issue 6, PostgreSQL, one 2-core machine with server and load generator together):
≥ 500 reservations/s with p99 ≤ 100 ms, no duplicates, and the time of ``next`` must not grow
with the calls already made. The script fills the database, creates the assignment (the queue
is materialized from a random-sample segment of 200,000 of the 1,000,000 people), starts
``orga serve --workers N`` and runs the callers with a lean keep-alive client: each caller asks
for the next person and reports the call (``reached``). It measures a first phase, marks half of
the remaining queue as called (bulk SQL), measures a second phase, then checks that no person
was handed out twice. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import database_url, open_runtime, start_server
from bench._http import Connection, percentiles
from bench._people import fill_people, org_tree
from core import db
from core.tables import utcnow


async def prepare(url: str, args) -> dict:
    """People, the assignment and its queue, callers with tokens; returns ids and timings."""
    from core.auth.services import assign_role, issue_token
    from core.orgs.services import set_module
    from core.testing import OrgaFactory
    from plugins.calling.assignments import create_assignment
    from plugins.calling.schemas import AssignmentIn

    async with open_runtime(url) as runtime:
        from core.context import set_runtime

        set_runtime(runtime)
        tree = await org_tree()
        fill_seconds = await fill_people(args.people, tree["districts"])
        root = await db.fetch_one("SELECT * FROM org_unit WHERE id = {}", tree["root"])
        await set_module(root["id"], "calling", True)
        started = time.perf_counter()
        assignment = await create_assignment(
            root["id"],
            root["path"],
            AssignmentIn(
                title="100.000 Anrufe",
                target={"filters": [{"type": "random_sample", "size": args.targets, "seed": 7}]},
                start_at=utcnow() - timedelta(hours=1),
            ),
        )
        queue_seconds = time.perf_counter() - started
        factory = OrgaFactory()
        tokens = []
        for n in range(args.callers):
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
            tokens.append((await issue_token(user.id)).secret)
        await db.execute("ANALYZE")
    return {
        "root": root["id"],
        "assignment": assignment["id"],
        "tokens": tokens,
        "fill_people_s": round(fill_seconds, 1),
        "materialize_queue_s": round(queue_seconds, 2),
    }


async def run_callers(port: int, setup: dict, seconds: float) -> dict:
    """Every caller loops next → report until time is up; latency of next and throughput."""
    base = f"/api/orgs/{setup['root']}/calling"
    latencies: list[float] = []
    errors: list[str] = []
    empty = 0
    deadline = time.perf_counter() + seconds

    async def caller(conn: Connection) -> None:
        nonlocal empty
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                status, body = await conn.request(
                    "POST", f"{base}/assignments/{setup['assignment']}/next"
                )
                latencies.append(time.perf_counter() - began)
                if status == 204:
                    empty += 1
                    await asyncio.sleep(0.05)
                    continue
                if status != 200:
                    errors.append(f"next {status} {body[:200]!r}")
                    return
                call_id = json.loads(body)["call_id"]
                status, body = await conn.request(
                    "POST", f"{base}/calls/{call_id}/report", {"outcome": "reached"}
                )
                if status != 204:
                    errors.append(f"report {status} {body[:200]!r}")
                    return
        finally:
            await conn.close()

    # callers arrive one by one, as people log in: a burst of connections would all be taken
    # by whichever server process wakes first (they share one listening socket)
    connections = []
    for token in setup["tokens"]:
        connections.append(Connection(port, token))
        await connections[-1].open()
        await asyncio.sleep(0.005)
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in connections))
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"errors during load: {errors[:3]}")
    return {
        "reservations": len(latencies) - empty,
        "reservations_per_s": round((len(latencies) - empty) / elapsed),
        **percentiles(latencies),
    }


async def mark_half_called(url: str, assignment_id: int) -> int:
    """Report half of the open queue as reached in bulk, as if a campaign had run for days."""
    async with open_runtime(url):
        rows = await db.fetch(
            "SELECT id, person_id FROM calling_target WHERE assignment_id = {} AND state = 'open' "
            "ORDER BY available_at, id",
            assignment_id,
        )
        half = rows[: len(rows) // 2]
        now = utcnow()
        async with db.transaction():
            await db.bulk_insert(
                "calling_call",
                [
                    "assignment_id",
                    "target_id",
                    "person_id",
                    "caller_id",
                    "state",
                    "reserved_at",
                    "reserved_until",
                    "outcome",
                    "reported_at",
                ],
                [
                    (
                        assignment_id,
                        r["id"],
                        r["person_id"],
                        1,
                        "reported",
                        now,
                        now,
                        "reached",
                        now,
                    )
                    for r in half
                ],
            )
            ids = [r["id"] for r in half]
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                marks = ", ".join(["{}"] * len(chunk))
                await db.execute(
                    "UPDATE calling_target SET state = 'done', last_outcome = 'reached', "
                    f"attempts = 1 WHERE id IN ({marks})",
                    *chunk,
                )
        await db.execute("ANALYZE")
        return len(half)


async def duplicates(url: str, assignment_id: int) -> dict:
    """People reported twice in the round, and live locks per person."""
    async with open_runtime(url):
        twice = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM (SELECT person_id FROM calling_call "
            "WHERE assignment_id = {} AND state = 'reported' GROUP BY person_id "
            "HAVING COUNT(*) > 1) x",
            assignment_id,
        )
        calls = await db.fetch_one(
            "SELECT COUNT(*) AS n FROM calling_call WHERE assignment_id = {} "
            "AND state = 'reported'",
            assignment_id,
        )
    return {"people_called_twice": int(twice["n"]), "reported_calls": int(calls["n"])}


async def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=200_000)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with database_url(args.backend) as url, tempfile.TemporaryDirectory() as var:
        setup = await prepare(url, args)
        proc, port = start_server(url, args.workers, var)
        try:
            first = await run_callers(port, setup, args.seconds)
            marked = await mark_half_called(url, setup["assignment"])
            second = await run_callers(port, setup, args.seconds)
        finally:
            proc.terminate()
            proc.wait()
        check = await duplicates(url, setup["assignment"])
    result = {
        "benchmark": "calling",
        "backend": args.backend,
        "people": args.people,
        "targets": args.targets,
        "callers": args.callers,
        "server_workers": args.workers,
        "fill_people_s": setup["fill_people_s"],
        "materialize_queue_s": setup["materialize_queue_s"],
        "phase1": first,
        "marked_called_in_bulk": marked,
        "phase2_after_bulk_calls": second,
        **check,
    }
    result["pass"] = (
        check["people_called_twice"] == 0
        and min(first["reservations_per_s"], second["reservations_per_s"]) >= 500
        and max(first["p99_ms"], second["p99_ms"]) <= 100
    )
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
