"""Latency of authorized requests: ``GET /api/me`` and a people list page of a district.

Run: ``.venv/bin/python bench/authz.py [--backend sqlite|postgres] [--people 100000]``.
Requests go through the real ASGI app in process (no network), one at a time; prints p50/p95
in milliseconds as JSON. Authorization itself is two queries (see the test
``test_authorization_costs_two_queries``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging

import httpx

from bench._common import database_url, open_runtime
from bench._people import fill_people, org_tree
from core.app import create_app
from core.auth.services import assign_role, issue_token
from core.auth.tables import User

logging.getLogger("httpx").setLevel(logging.WARNING)


async def timed(client: httpx.AsyncClient, url: str, headers: dict, rounds: int) -> dict:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
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
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with database_url(args.backend) as url:
        async with open_runtime(url) as runtime:
            tree = await org_tree()
            fill_seconds = await fill_people(args.people, tree["districts"])
            rows = await User.insert(
                User(email="bench@example.org", display_name="Bench", password_hash="x")
            ).run()
            user_id = rows[0]["id"]
            await assign_role(user_id, tree["districts"][0], "organizer", by=None)
            token = await issue_token(user_id)
            settings = runtime.settings
        app = create_app(settings)
        from asgi_lifespan import LifespanManager

        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                headers = {"Authorization": f"Bearer {token.secret}"}
                district = tree["districts"][0]
                await timed(client, "/api/me", headers, 20)  # warm up
                me = await timed(client, "/api/me", headers, args.rounds)
                people = await timed(
                    client, f"/api/orgs/{district}/people/?limit=50", headers, args.rounds
                )
    return {
        "benchmark": "authz",
        "backend": args.backend,
        "people": args.people,
        "fill_seconds": round(fill_seconds, 1),
        "get_me": me,
        "people_list_page": people,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
