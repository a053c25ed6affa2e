"""Many callers at once drain an assignment: each target once per round, nobody twice at the
same time, cooldown, call-back and goal respected (50 callers on PostgreSQL, 10 on SQLite)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from core import db
from core.people.tags import set_tags
from tests.plugins.calling.conftest import bulk_people, make_campaign, open_assignment


async def test_concurrent_callers_drain_an_assignment(client, factory, orga_backend):
    postgres = orga_backend == "postgres"
    callers, targets = (50, 2000) if postgres else (10, 300)
    campaign = await make_campaign(factory, people_per_district=0, callers=callers)
    ids = await bulk_people([campaign.district_a["id"], campaign.district_b["id"]], targets)
    goal_people = set(ids[:: targets // 20])
    for person_id in goal_people:
        await set_tags(person_id, campaign.federal["id"], campaign.federal["path"], ["aktiv"])
    assignment = await open_assignment(
        client, campaign, goal={"filters": [{"type": "tags", "tags": ["aktiv"]}]}
    )
    assert assignment["targets"] == targets
    url = campaign.url(campaign.district_a)
    handed: list[int] = []
    active: set[int] = set()
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    async def work(caller) -> None:
        while True:
            response = await client.post(
                f"{url}/assignments/{assignment['id']}/next", headers=caller.headers
            )
            if response.status_code == 204:
                return
            assert response.status_code == 200, response.text
            call = response.json()
            person_id = call["person"]["id"]
            assert person_id not in active, "two callers on one person at the same time"
            active.add(person_id)
            handed.append(person_id)
            outcome = ("reached", "no_answer", "call_back", "busy")[person_id % 4]
            body = {"outcome": outcome}
            if outcome == "call_back":
                body["call_back_after"] = later
            await asyncio.sleep(0)  # let other callers run while this one is "on the phone"
            active.discard(person_id)
            reported = await client.post(
                f"{url}/calls/{call['call_id']}/report", json=body, headers=caller.headers
            )
            assert reported.status_code == 204, reported.text

    await asyncio.gather(*(work(caller) for caller in campaign.callers))
    assert len(handed) == len(set(handed)), "a target was handed out twice in one round"
    assert set(handed) == set(ids) - goal_people
    leftovers = await db.fetch(
        "SELECT COUNT(*) AS n FROM calling_lock WHERE until > {}", datetime.now(UTC)
    )
    assert leftovers[0]["n"] == 0
    calls = await db.fetch_one(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT person_id) AS people FROM calling_call "
        "WHERE assignment_id = {} AND state = 'reported'",
        assignment["id"],
    )
    assert calls["n"] == calls["people"] == targets - len(goal_people)
