"""A small campaign: a federal unit with a state and two districts, callers and people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import db


@dataclass
class Campaign:
    federal: dict[str, Any]
    state: dict[str, Any]
    district_a: dict[str, Any]
    district_b: dict[str, Any]
    organizer: Any
    callers: list[Any]
    people: list[dict[str, Any]] = field(default_factory=list)

    def url(self, org: dict[str, Any] | None = None) -> str:
        return f"/api/orgs/{(org or self.federal)['id']}/calling"


def start_now() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


async def make_campaign(factory, people_per_district: int = 3, callers: int = 2) -> Campaign:
    federal = await factory.org("Bund", kind="federal")
    state = await factory.org("Land", kind="state", parent=federal["id"])
    district_a = await factory.org("Kreis A", parent=state["id"])
    district_b = await factory.org("Kreis B", parent=state["id"])
    await factory.enable(federal["id"], "calling")
    organizer = await factory.user("organizer", federal["id"])
    campaign = Campaign(
        federal,
        state,
        district_a,
        district_b,
        organizer,
        [await factory.user("caller", district_a["id"]) for _ in range(callers)],
    )
    for district in (district_a, district_b):
        for index in range(people_per_district):
            campaign.people.append(
                await factory.person(
                    district["id"],
                    first_name=f"P{district['id']}_{index}",
                    phones=[f"+4930{district['id']:03d}{index:05d}"],
                )
            )
    return campaign


async def open_assignment(client, campaign: Campaign, **fields) -> dict[str, Any]:
    body = {
        "title": "100.000 Anrufe",
        "target": {"filters": [{"type": "org", "org_id": campaign.federal["id"]}]},
        "start_at": start_now(),
        "cooldown_hours": 24,
        "survey": [
            {
                "key": "topics",
                "text": "Welche Themen bewegen dich?",
                "kind": "choice",
                "options": ["Miete", "Pflege", "Frieden"],
                "multiple": True,
            },
            {"key": "comment", "text": "Sonst noch etwas?"},
        ],
        **fields,
    }
    response = await client.post(
        campaign.url() + "/assignments", json=body, headers=campaign.organizer.headers
    )
    assert response.status_code == 201, response.text
    assignment = response.json()
    for caller in campaign.callers:
        added = await client.post(
            campaign.url() + f"/assignments/{assignment['id']}/callers",
            json={"user_id": caller.id},
            headers=campaign.organizer.headers,
        )
        assert added.status_code == 201, added.text
    return assignment


async def next_call(client, campaign: Campaign, assignment_id: int, caller) -> dict | None:
    response = await client.post(
        campaign.url(campaign.district_a) + f"/assignments/{assignment_id}/next",
        headers=caller.headers,
    )
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    return response.json()


async def report(client, campaign: Campaign, call_id: int, caller, **body) -> Any:
    return await client.post(
        campaign.url(campaign.district_a) + f"/calls/{call_id}/report",
        json={"outcome": "reached", **body},
        headers=caller.headers,
    )


async def expire_reservations() -> None:
    """Let every live reservation run out (as if the timeout had passed)."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    await db.execute("UPDATE calling_call SET reserved_until = {} WHERE state = 'reserved'", past)
    await db.execute(
        "UPDATE calling_target SET available_at = {} WHERE current_call_id IS NOT NULL", past
    )
    await db.execute("UPDATE calling_lock SET until = {}", past)


@pytest.fixture
async def campaign(factory) -> Campaign:
    return await make_campaign(factory)


async def bulk_people(org_ids: list[int], count: int) -> list[int]:
    """``count`` people with one phone each, spread over ``org_ids`` (multi-row INSERTs)."""
    from core.tables import utcnow

    now = utcnow()
    ids: list[int] = []
    for start in range(0, count, 250):
        size = min(250, count - start)
        marks = ", ".join(["({}, {}, {}, {}, {}, {}, {})"] * size)
        values: list[Any] = []
        for n in range(start, start + size):
            values += [f"Bulk{n}", "Person", f"bulk{n} person", f"person bulk{n}"]
            values += [org_ids[n % len(org_ids)], now, now]
        rows = await db.fetch(
            "INSERT INTO person (first_name, last_name, first_key, last_key, home_org_id, "
            f"created_at, updated_at) VALUES {marks} RETURNING id",
            *values,
        )
        new = [r["id"] for r in rows]
        phone_marks = ", ".join(["({}, {}, {}, 0)"] * len(new))
        phone_values: list[Any] = []
        for person_id in new:
            phone_values += [person_id, f"+4940{person_id:08d}", True]
        await db.execute(
            f"INSERT INTO person_phone (person_id, e164, valid, position) VALUES {phone_marks}",
            *phone_values,
        )
        ids += new
    await db.execute("UPDATE person SET has_phone = {} WHERE id >= {}", True, ids[0])
    return ids
